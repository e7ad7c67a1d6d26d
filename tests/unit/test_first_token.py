"""The first-token last layer of the exported BERT graph: same logits as the whole model, fewer rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from crossrank.export.first_token import FirstTokenLogits, supports_first_token

PAIRS = [("what is the capital of france", "paris is the capital and largest city of france"),
         ("a", "b"), ("who wrote it", "the author of the novel lived in bath for some years")]


def _model(folder: Path) -> torch.nn.Module:
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(str(folder), attn_implementation="eager").eval()


def test_first_token_logits_equal_the_whole_model(tiny_bert: Path) -> None:
    from transformers import AutoTokenizer

    model = _model(tiny_bert)
    assert supports_first_token(model)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    batch = tokenizer([q for q, _ in PAIRS], [d for _, d in PAIRS], padding=True, return_tensors="pt")
    assert int(batch["attention_mask"].sum(1).min()) < batch["attention_mask"].shape[1]  # padding is exercised
    wrapper = FirstTokenLogits(model)
    wrapper.names = list(batch.keys())
    with torch.no_grad():
        whole = model(**batch).logits
        first = wrapper(*batch.values())
    assert first.shape == whole.shape
    torch.testing.assert_close(first, whole, atol=1e-5, rtol=0)


def test_other_models_are_traced_whole(tiny_bert: Path) -> None:
    from transformers import AutoModel

    assert not supports_first_token(AutoModel.from_pretrained(str(tiny_bert)))  # no classifier head


def test_exported_graph_with_and_without_the_first_token_layer(tiny_bert: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    import numpy as np

    from crossrank import CrossEncoder, export_onnx

    torch_logits = CrossEncoder(tiny_bert, device="cpu").logits(PAIRS)
    sizes = {}
    for first_token in (True, False):
        folder = export_onnx(tiny_bert, tmp_path / str(first_token), first_token=first_token).folder
        onnx_logits = CrossEncoder(folder, backend="onnx").logits(PAIRS, batch_size=2)
        np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4, rtol=0)
        sizes[first_token] = (folder / "onnx" / "model.onnx").stat().st_size
    assert sizes[True] != sizes[False]  # a different graph was written
