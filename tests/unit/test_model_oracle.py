"""Interoperability with Sentence Transformers' CrossEncoder: same folders, same scores."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from crossrank import CrossEncoder

pytestmark = pytest.mark.oracle
st = pytest.importorskip("sentence_transformers")

PAIRS = [("what is paris", "paris is the capital of france"), ("a dog", "the cat is an animal"),
         ("who was king", "the king died in the war")]


def test_crossrank_folder_loads_in_reference(tiny_bert: Path, tmp_path: Path) -> None:
    ours = CrossEncoder(tiny_bert)
    out = ours.save_pretrained(tmp_path / "ours")
    ref = st.CrossEncoder(str(out), device="cpu")
    np.testing.assert_allclose(ref.predict(PAIRS), ours.predict(PAIRS), atol=1e-5)


def test_identity_activation_survives_in_reference(tiny_bert: Path, tmp_path: Path) -> None:
    ours = CrossEncoder(tiny_bert, activation_fn=torch.nn.Identity())
    out = ours.save_pretrained(tmp_path / "ours")
    ref = st.CrossEncoder(str(out), device="cpu")
    np.testing.assert_allclose(ref.predict(PAIRS), ours.predict(PAIRS), atol=1e-5)


def test_reference_folder_loads_in_crossrank(tiny_bert: Path, tmp_path: Path) -> None:
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    ref = st.CrossEncoder(str(tiny_bert), device="cpu")
    ref.save_pretrained(str(tmp_path / "ref"))
    ours = CrossEncoder(tmp_path / "ref")
    np.testing.assert_allclose(ours.predict(PAIRS), ref.predict(PAIRS), atol=1e-5)
