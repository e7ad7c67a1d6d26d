"""Tracing a Hugging Face model to ONNX: fp32, dynamic batch and sequence axes, the tokenizer's input names.

A reranker's graph maps ``input_ids``, ``attention_mask`` [, ``token_type_ids``] to ``logits`` ``(batch, C)``;
an embedder's (the Transformer module of a Sentence Transformers folder) to ``last_hidden_state``
``(batch, sequence, hidden)``, pooled by the :class:`~crossrank.embedder.Embedder` as before.

The exporter is ``torch.onnx.export`` with the TorchScript tracer (``dynamo=False``). Checked on
all-MiniLM-L6-v2 with torch 2.13 and transformers 5 during development: both it and the dynamo exporter
reproduce the torch logits to ~1e-7 at every batch and sequence size tried, but the tracer exported in ~3 s
against ~12 s, needs no ``onnxscript``, and its graph ran 10-20% faster under ONNX Runtime in two (noisy)
timing runs on the 2-core development machine. The model is traced with eager attention: ONNX Runtime's
transformer optimizer fuses that graph's MatMul/Softmax pattern into its Attention kernel (6 of 6 layers).

A BERT reranker is traced with its last layer computed for the first token only
(:mod:`crossrank.export.first_token`) unless ``first_token=False``; ONNX Runtime then fuses the other layers.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from crossrank.inference.engine import FEATURE_KEYS

OPSET = 17
Kind = Literal["reranker", "embedder"]


class _Logits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, features)), return_dict=True).logits


class _Hidden(_Logits):
    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, features)), return_dict=True).last_hidden_state


def input_names(tokenizer: Any) -> list[str]:
    """The features the tokenizer produces, in the engine's order (``token_type_ids`` only when it has them)."""
    produced = set(getattr(tokenizer, "model_input_names", FEATURE_KEYS))
    return [key for key in FEATURE_KEYS if key in produced]


def load_for_export(folder: Path, kind: Kind) -> nn.Module:
    """The folder's model in eval mode with eager attention (the pattern ONNX Runtime fuses)."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    loader = AutoModelForSequenceClassification if kind == "reranker" else AutoModel
    return loader.from_pretrained(str(folder), attn_implementation="eager").eval()


def _wrapper(model: nn.Module, kind: Kind, first_token: bool) -> nn.Module:
    from crossrank.export.first_token import FirstTokenLogits, supports_first_token

    if kind == "reranker" and first_token and supports_first_token(model):
        return FirstTokenLogits(model)
    return (_Logits if kind == "reranker" else _Hidden)(model)


def export_graph(folder: Path, tokenizer: Any, out_path: Path, kind: Kind, first_token: bool = True) -> Path:
    """Trace the model in ``folder`` to ``out_path`` (fp32); ``first_token``: see the module docstring."""
    names = input_names(tokenizer)
    wrapper = _wrapper(load_for_export(folder, kind), kind, first_token)
    wrapper.names = names
    wrapper.eval()
    example = tokenizer(["a short query", "another question here"], ["a document of a few words", "text"],
                        padding=True, return_tensors="pt")
    args = tuple(example[name] for name in names)
    output = "logits" if kind == "reranker" else "last_hidden_state"
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes[output] = {0: "batch"} if kind == "reranker" else {0: "batch", 1: "sequence"}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow it records as constants
        torch.onnx.export(wrapper, args, str(out_path), input_names=names, output_names=[output],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False, do_constant_folding=True)
    return out_path
