"""CrossEncoder: loading, predict/rank semantics, saving, and clear errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from crossrank import CrossEncoder

PAIRS = [
    ("what is the capital of france", "paris is the capital of france"),
    ("who wrote the book", "the author of the book was born in paris"),
    ("a", "the cat"),
    ("where is the river", "the river is in the city and it is the largest river of the country by far"),
]


def test_predict_restores_order_and_matches_single_pairs(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    batched = model.predict(PAIRS, batch_size=2)
    singles = np.array([model.predict(p) for p in PAIRS])
    assert batched.shape == (4,) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, singles, atol=1e-6)
    assert np.isscalar(model.predict(PAIRS[0])) or model.predict(PAIRS[0]).shape == ()


def test_predict_output_types_and_activation(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    logits = model.predict(PAIRS, activation_fn=torch.nn.Identity())
    probs = model.predict(PAIRS)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), atol=1e-6)
    tensor = model.predict(PAIRS, convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (4,)
    as_list = model.predict(PAIRS, convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == 4
    assert model.predict([]).shape == (0,)


def test_rank_sorts_by_score(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    docs = [p[1] for p in PAIRS]
    scores = model.predict([("paris", d) for d in docs])
    ranked = model.rank("paris", docs, top_k=3, return_documents=True)
    assert [r["corpus_id"] for r in ranked] == list(np.argsort(-scores, kind="stable")[:3])
    assert ranked[0]["text"] == docs[ranked[0]["corpus_id"]]
    assert ranked[0]["score"] == pytest.approx(float(scores.max()), abs=1e-7)


def test_save_roundtrip_is_atomic_and_keeps_activation(tiny_bert: Path, tmp_path: Path) -> None:
    model = CrossEncoder(tiny_bert, activation_fn=torch.nn.Identity())
    out = model.save_pretrained(tmp_path / "saved")
    config = json.loads((out / "config.json").read_text())
    assert config["sentence_transformers"]["activation_fn"] == "torch.nn.modules.linear.Identity"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".saved")]
    again = CrossEncoder(out)
    np.testing.assert_allclose(again.predict(PAIRS), model.predict(PAIRS), atol=1e-6)
    model.save_pretrained(out)  # overwriting an existing folder works
    assert (out / "model.safetensors").is_file()


def test_base_encoder_gets_fresh_one_label_head(tmp_path: Path) -> None:
    from conftest import build_tiny_bert

    path = build_tiny_bert(tmp_path / "base", head=False)
    model = CrossEncoder(path)
    assert model.num_labels == 1
    assert model.predict(PAIRS).shape == (4,)


def test_multi_label_model_returns_matrix(tmp_path: Path) -> None:
    from conftest import build_tiny_bert

    model = CrossEncoder(build_tiny_bert(tmp_path / "three", num_labels=3))
    scores = model.predict(PAIRS, apply_softmax=True)
    assert scores.shape == (4, 3)
    np.testing.assert_allclose(scores.sum(axis=1), np.ones(4), atol=1e-6)


def test_missing_folder_error_names_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"model folder '.*nope' does not exist; pass an existing local"):
        CrossEncoder(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        CrossEncoder(tmp_path / "empty")


def test_max_length_bounds_and_truncation_warning(tiny_bert: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValueError, match="max_length must be between 2 and the model's 128 positions; found 999"):
        CrossEncoder(tiny_bert, max_length=999)
    model = CrossEncoder(tiny_bert, max_length=8)
    with caplog.at_level(logging.WARNING, logger="crossrank.model"):
        model.predict(PAIRS)
    assert "3 of 4 pairs are longer than max_length=8 tokens and were truncated" in caplog.text
    whole = [len(ids) for ids in model.tokenizer([q for q, _ in PAIRS], [d for _, d in PAIRS])["input_ids"]]
    exact = CrossEncoder(tiny_bert, max_length=whole[0])  # the first pair fits exactly: not truncated
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crossrank.model"):
        exact.predict(PAIRS)
    longer = sum(n > whole[0] for n in whole)
    assert f"{longer} of 4 pairs are longer than max_length={whole[0]} tokens" in caplog.text


def test_bad_pairs_raise(tiny_bert: Path) -> None:
    model = CrossEncoder(tiny_bert)
    with pytest.raises(ValueError, match=r"pair 1 must hold two strings; found \(str, int\)"):
        model.predict([("a", "b"), ("a", 3)])
    with pytest.raises(ValueError, match="pair 0 must be \\(query, document\\)"):
        model.predict([("a", "b", "c")])
    with pytest.raises(ValueError, match="batch_size must be a positive integer; found 0"):
        model.predict(PAIRS, batch_size=0)


def test_push_to_hub_without_network_is_clear(tiny_bert: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = CrossEncoder(tiny_bert)
    with pytest.raises(ConnectionError, match="could not reach the Hugging Face Hub to push 'me/model'"):
        model.push_to_hub("me/model", token="hf_fake")


def test_transformers_loads_saved_folder_with_same_scores(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = CrossEncoder(tiny_bert)
    out = model.save_pretrained(tmp_path / "hf")
    hf = AutoModelForSequenceClassification.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    enc = tok([p[0] for p in PAIRS], [p[1] for p in PAIRS], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch.sigmoid(hf(**enc).logits.view(-1)).numpy()
    np.testing.assert_allclose(model.predict(PAIRS), expected, atol=1e-5)
