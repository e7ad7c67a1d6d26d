"""The light BERT path of the Embedder: same token ids and embeddings as transformers, clear fallbacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from crossrank.embedder import Embedder
from crossrank.embedding.bert_encoder import BertShape, load_light_bert

TEXTS = ["What is the capital of France?", "a", "Ünïcode ÀCCENTS and 中文", "the cat " * 200, ""]


@pytest.mark.parametrize("head", [False, True])
def test_light_matches_transformers(tiny_bert: Path, tmp_path: Path, head: bool) -> None:
    from conftest import build_tiny_bert

    folder = tiny_bert if head else build_tiny_bert(tmp_path / "enc", head=False)
    light, ref = Embedder(folder, backend="light"), Embedder(folder, backend="transformers")
    assert (light.backend, ref.backend) == ("light", "transformers")
    assert light.max_length == ref.max_length == 128
    assert light._tokenize(TEXTS) == ref._tokenize(TEXTS)
    assert len(light._tokenize(TEXTS)[3]) == 128  # truncated with [CLS] and [SEP] counted
    got, want = light.encode(TEXTS, normalize=False), ref.encode(TEXTS, normalize=False)
    assert np.abs(got - want).max() < 1e-5
    assert light.get_embedding_dimension() == ref.get_embedding_dimension() == 32


def test_auto_prefers_light_and_falls_back(tiny_bert: Path) -> None:
    assert Embedder(tiny_bert).backend == "light"
    (tiny_bert / "tokenizer.json").unlink()
    assert Embedder(tiny_bert).backend == "transformers"
    with pytest.raises(ValueError, match="backend='light' needs a plain BERT folder with model.safetensors"):
        Embedder(tiny_bert, backend="light")
    with pytest.raises(ValueError) as info:
        Embedder(tiny_bert, backend="fast")  # type: ignore[arg-type]
    assert str(info.value) == "backend must be 'auto', 'light', 'transformers' or 'onnx'; got 'fast'."


def test_unsupported_configs_are_refused(tiny_bert: Path, tmp_path: Path) -> None:
    config = json.loads((tiny_bert / "config.json").read_text())
    assert BertShape.from_config(config) is not None
    assert BertShape.from_config({**config, "position_embedding_type": "relative_key"}) is None
    assert BertShape.from_config({**config, "hidden_act": "swish"}) is None
    assert BertShape.from_config({**config, "model_type": "roberta"}) is None
    other = tmp_path / "other"
    shutil.copytree(tiny_bert, other)
    (other / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    assert load_light_bert(other) is None


def test_minilm_light_path_equals_transformers(minilm_path: Path) -> None:
    light, ref = Embedder(minilm_path, backend="light"), Embedder(minilm_path, backend="transformers")
    texts = ["how are glacier caves formed?", "A glacier cave is a cave formed within the ice.", "x " * 300]
    assert light._tokenize(texts) == ref._tokenize(texts)
    assert np.array_equal(light.encode(texts), ref.encode(texts))  # bit for bit, as README says
