"""Embedding internals of the bi-encoder (``crossrank.embedder.Embedder`` is the front door)."""
