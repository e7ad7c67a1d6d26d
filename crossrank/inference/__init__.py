"""Inference: the scoring engine and what a loaded reranker needs around it.

``engine.py`` (pairs -> logits through a backend), ``batching.py`` (the batch planner and padding),
``pairs.py`` (input checks), ``activation.py`` (the stored activation), ``fusion.py`` (first-stage score
fusion), ``loading.py`` (where a model comes from), ``hub.py`` (uploads), ``protocols.py`` (what a
scoring or embedding model must offer).
"""
