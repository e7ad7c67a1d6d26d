"""Tests for crossrank.embedder: folder layouts, pooling modes, batching plan, prompts and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from crossrank.embedder import Embedder, cache_key, pool, read_layout


def _st_folder(src: Path, pooling: str = "pooling_mode_cls_token") -> Path:
    (src / "1_Pooling").mkdir()
    (src / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, pooling: True}))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (src / "modules.json").write_text(json.dumps(modules))
    (src / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16, "do_lower_case": False}))
    (src / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "query: "}}))
    return src


def test_pool_modes() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 3.0]]
    assert pool(hidden, mask, "cls").tolist() == [[1.0, 2.0]]
    assert pool(hidden, mask, "max").tolist() == [[3.0, 4.0]]
    assert pool(hidden, mask, "lasttoken").tolist() == [[3.0, 4.0]]
    assert torch.allclose(pool(hidden, mask, "mean_sqrt_len"), torch.tensor([[4.0, 6.0]]) / 2**0.5)


def test_read_layout_sentence_transformers(tiny_bert: Path) -> None:
    layout = read_layout(_st_folder(tiny_bert))
    assert (layout.pooling, layout.normalize, layout.max_length) == ("cls", True, 16)
    assert layout.prompts == {"query": "query: "}


def test_plain_hf_folder_uses_mean_pooling(tiny_bert: Path) -> None:
    emb = Embedder(tiny_bert, backend="transformers")
    assert (emb.pooling, emb.normalize_output) == ("mean", False)
    raw = emb.encode(["the cat", "a dog"], normalize=False)
    ids = emb.tokenizer(["the cat"], return_tensors="pt")
    with torch.inference_mode():
        hidden = emb.model(**ids).last_hidden_state
    assert np.allclose(raw[0], hidden.mean(dim=1)[0].numpy(), atol=1e-5)
    assert np.allclose(np.linalg.norm(emb.encode(["the cat"]), axis=1), 1.0)


def test_encode_is_order_preserving_and_batch_independent(tiny_bert: Path) -> None:
    emb = Embedder(_st_folder(tiny_bert))
    texts = ["a", "the cat is on the moon", "dog", "what is the capital of france"]
    batched = emb.encode(texts, batch_size=1)
    one_by_one = np.stack([emb.encode(t) for t in texts])
    assert batched.shape == (4, 32)
    assert np.allclose(batched, one_by_one, atol=1e-5)


def test_plan_batches_budget() -> None:
    # the Embedder plans with the one batch planner: a budget of batch_size * 40 tokens, at most 8 * batch_size rows
    from crossrank.inference.batching import plan_batches

    plan = plan_batches([10, 40, 20, 5], batch_size=1, max_tokens=40, max_rows=8)
    assert [b.tolist() for b in plan] == [[1], [2, 0], [3]]
    assert plan_batches([], batch_size=4, max_tokens=256) == []


def test_prompts_and_cache(tiny_bert: Path, tmp_path: Path) -> None:
    emb = Embedder(_st_folder(tiny_bert))
    by_name = emb.encode(["cat"], prompt_name="query")
    assert np.allclose(by_name, emb.encode(["cat"], prompt="query: "))
    with pytest.raises(ValueError, match=r"prompt_name 'doc' is not one of the model's prompts \['query'\]"):
        emb.encode(["cat"], prompt_name="doc")
    first = emb.encode(["cat", "dog"], cache_folder=tmp_path / "c")
    files = list((tmp_path / "c").glob("emb_*.npy"))
    assert len(files) == 1
    np.save(files[0], np.zeros((2, 32), np.float32) + 1)
    cached = emb.encode(["cat", "dog"], cache_folder=tmp_path / "c", normalize=False)
    assert np.allclose(cached, 32**-0.5)  # loaded from the cache; the Normalize module still applies
    assert not np.allclose(first, cached)


def test_cache_key_depends_on_prompt_and_texts() -> None:
    base = cache_key("m", None, ["a", "b"])
    assert base != cache_key("m", "q: ", ["a", "b"])
    assert base != cache_key("m", None, ["ab"])
    assert base == cache_key("m", None, ["a", "b"])


def test_errors(tmp_path: Path, tiny_bert: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Embedding model folder"):
        Embedder(tmp_path / "missing")
    (tiny_bert / "modules.json").write_text(json.dumps([{"path": "2", "type": "sentence_transformers.models.Dense"}]))
    with pytest.raises(ValueError, match="lists module type 'sentence_transformers.models.Dense'"):
        Embedder(tiny_bert)


def test_encode_rejects_non_strings(tiny_bert: Path) -> None:
    emb = Embedder(tiny_bert)
    with pytest.raises(ValueError, match="encode expects strings, found int: 3"):
        emb.encode(["a", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        emb.encode(["a"], batch_size=0)
    assert emb.encode([]).shape == (0, 32)


def test_package_model_id_needs_an_installed_package() -> None:
    with pytest.raises(FileNotFoundError, match="package 'no_such_pkg_xyz' is not installed; install it"):
        Embedder("package:no_such_pkg_xyz")


def test_trim_heap_on_glibc() -> None:
    import platform

    from crossrank.embedder import trim_heap

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert trim_heap() is True


def test_concurrent_batches_give_the_same_vectors(tiny_bert: Path) -> None:
    import torch

    texts = [f"text number {i} " + "word " * (i % 13) for i in range(40)]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        one = Embedder(tiny_bert, cpu_workers=1)
        two = Embedder(tiny_bert, cpu_workers=2)
        assert two._parallelism(5) == (2, 1) and one._parallelism(5) == (1, 2)
        # concurrent batches split the token budget, so batch shapes (not the maths) differ
        assert np.abs(one.encode(texts, batch_size=1) - two.encode(texts, batch_size=1)).max() < 1e-6
        assert torch.get_num_threads() == 2  # the workers' setting stays in the workers
    finally:
        torch.set_num_threads(threads)
    with pytest.raises(ValueError, match="cpu_workers must be a positive integer or None, got 0."):
        Embedder(tiny_bert, cpu_workers=0)
