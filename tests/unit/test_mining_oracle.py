"""Oracle: crossrank's ``mine_hard_negatives`` equals sentence-transformers' on the same data and model.

Same rows in the same order for every output format, with and without margins and ``max_score``
(``sampling_strategy="top"``), and the same statistics table. Embeddings are cached per side so each
case after the first only searches and formats.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.oracle
st = pytest.importorskip("sentence_transformers")

from datasets import Dataset  # noqa: E402

from crossrank.embedder import Embedder  # noqa: E402
from crossrank.mining import MiningConfig, mine  # noqa: E402

SETTINGS: list[dict[str, Any]] = [
    {},
    {"relative_margin": 0.05},
    {"absolute_margin": 0.02, "max_score": 0.8},
    {"max_score": 0.7, "output_scores": True},
]
FORMATS = ["triplet", "n-tuple", "labeled-pair", "labeled-list"]


@pytest.fixture(scope="module")
def wikiqa_slice(shared_data: Path) -> tuple[Dataset, list[str]]:
    rows = [json.loads(line) for line in (shared_data / "wikiqa" / "train.jsonl").read_text().splitlines()]
    pairs = [(r["question"], r["sentence"]) for r in rows if r["label"] == 1][:60]
    queries = {q for q, _ in pairs}
    corpus = [r["sentence"] for r in rows if r["question"] in queries][:250]
    return Dataset.from_dict({"query": [q for q, _ in pairs], "answer": [a for _, a in pairs]}), corpus


@pytest.fixture(scope="module")
def models(minilm_path: Path) -> tuple[Any, Embedder]:
    return st.SentenceTransformer(str(minilm_path), device="cpu"), Embedder(minilm_path, device="cpu")


def _reference(data: Dataset, corpus: list[str], model: Any, cache: Path, **kwargs: Any) -> Dataset:
    from sentence_transformers.util import mine_hard_negatives

    return mine_hard_negatives(data, model, corpus=corpus, num_negatives=3, sampling_strategy="top",
                               cache_folder=str(cache), **kwargs)


def _assert_same(ref: Dataset, ours: Dataset) -> None:
    assert ours.column_names == ref.column_names
    assert len(ours) == len(ref)
    for column in ref.column_names:
        if column in ("score", "scores"):
            flat_ref = np.hstack([np.ravel(x) for x in ref[column]]) if len(ref) else np.array([])
            flat_ours = np.hstack([np.ravel(x) for x in ours[column]]) if len(ours) else np.array([])
            assert np.allclose(flat_ours, flat_ref, atol=1e-5)
        else:
            assert ours[column] == ref[column], column


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(s) or "plain")
def test_same_rows_as_reference(
    wikiqa_slice: tuple[Dataset, list[str]], models: tuple[Any, Embedder], tmp_path_factory: pytest.TempPathFactory,
    output_format: str, setting: dict[str, Any],
) -> None:
    data, corpus = wikiqa_slice
    cache = tmp_path_factory.getbasetemp() / "oracle-cache"
    ref = _reference(data, corpus, models[0], cache, output_format=output_format, verbose=False, **setting)
    config = MiningConfig(num_negatives=3, output_format=output_format, verbose=False,  # type: ignore[arg-type]
                          cache_folder=str(cache), **setting)
    ours = mine(data, models[1], config, corpus=corpus).dataset
    assert len(ref) > 0
    _assert_same(ref, ours)


def _parse_reference_table(text: str) -> dict[str, list[float]]:
    table: dict[str, list[float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in ("Mean", "Median", "Std", "Min", "25%", "50%", "75%", "Max"):
            table[parts[0].lower()] = [float(x) for x in parts[1:]]
        if parts and parts[0] == "Count":
            table["count"] = [float(x.replace(",", "")) for x in parts[1:]]
    return table


@pytest.mark.parametrize("output_format", FORMATS)
def test_stats_match_reference(
    wikiqa_slice: tuple[Dataset, list[str]], models: tuple[Any, Embedder], tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str], output_format: str,
) -> None:
    data, corpus = wikiqa_slice
    cache = tmp_path_factory.getbasetemp() / "oracle-cache"
    capsys.readouterr()
    _reference(data, corpus, models[0], cache, output_format=output_format, verbose=True, max_score=0.75)
    printed = capsys.readouterr().out
    table = _parse_reference_table(printed)
    config = MiningConfig(num_negatives=3, output_format=output_format, verbose=False,  # type: ignore[arg-type]
                          cache_folder=str(cache), max_score=0.75)
    stats = mine(data, models[1], config, corpus=corpus).stats
    assert table["count"] == [stats.positive["count"], stats.negative["count"]]
    for metric, values in table.items():
        if metric != "count":
            ours = [stats.positive[metric], stats.negative[metric], stats.difference[metric]]
            assert np.allclose(ours, values, atol=2e-4), metric
    skipped = re.search(r"Skipped ([\d,]+) potential negatives \(([\d.]+)%\) due to the max_score", printed)
    assert skipped is not None
    assert stats.skipped["max_score"][0] == int(skipped.group(1).replace(",", ""))
    assert round(stats.skipped["max_score"][1] * 100, 2) == float(skipped.group(2))
    missing = re.search(r"Could not find enough negatives for (\d+) samples", printed)
    assert stats.missing == (int(missing.group(1)) if missing else 0)
