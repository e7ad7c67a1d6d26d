"""Integration: ``crossrank mine`` on a WikiQA slice with the packaged MiniLM, JSONL/CSV/Parquet in and out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crossrank.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wikiqa_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = (shared_data / "wikiqa" / "train.jsonl").read_text().splitlines()[:150]
    path = tmp_path_factory.mktemp("cli-mine") / "pairs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _base(wikiqa_file: Path, minilm_path: Path, out: Path, cache: Path) -> list[str]:
    return ["mine", str(wikiqa_file), "--model", str(minilm_path), "--out", str(out),
            "--anchor-column", "question", "--positive-column", "sentence", "--label-column", "label",
            "--corpus", str(wikiqa_file), "--corpus-column", "sentence", "--cache-folder", str(cache)]


def test_mine_jsonl_csv_parquet(wikiqa_file: Path, minilm_path: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "mined.jsonl"
    assert main([*_base(wikiqa_file, minilm_path, out, cache), "--num-negatives", "2",
                 "--output-format", "n-tuple"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert list(rows[0]) == ["question", "sentence", "negative_1", "negative_2"]
    positives = {(r["question"], r["sentence"]) for r in map(json.loads, wikiqa_file.read_text().splitlines())
                 if r["label"] == 1}
    assert {(r["question"], r["sentence"]) for r in rows} <= positives
    assert all((r["question"], r["negative_1"]) not in positives for r in rows)

    out_csv = tmp_path / "mined.csv"
    assert main([*_base(wikiqa_file, minilm_path, out_csv, cache), "--output-format", "labeled-list",
                 "--quiet"]) == 0
    with open(out_csv, newline="") as handle:
        table = list(csv.DictReader(handle))
    assert set(json.loads(table[0]["labels"])) == {0, 1} and json.loads(table[0]["labels"])[0] == 1

    pq.write_table(pa.table({"q": [r["question"] for r in rows], "a": [r["sentence"] for r in rows]}),
                   tmp_path / "pairs.parquet")
    out_pq = tmp_path / "mined.parquet"
    assert main(["mine", str(tmp_path / "pairs.parquet"), "--model", str(minilm_path), "--out", str(out_pq),
                 "--corpus", str(wikiqa_file), "--corpus-column", "sentence", "--cache-folder", str(cache),
                 "--output-format", "labeled-pair", "--output-scores", "--quiet"]) == 0
    assert pq.read_table(out_pq).column_names == ["q", "a", "score"]


def test_mine_user_errors(wikiqa_file: Path, minilm_path: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_base(wikiqa_file, minilm_path, tmp_path / "x.txt", tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["mine", str(wikiqa_file), "--model", str(minilm_path), "--out", str(tmp_path / "o.jsonl"),
                 "--anchor-column", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crossrank mine: error: --anchor-column 'nope' is not a column of")
    assert main([*_base(wikiqa_file, minilm_path, tmp_path / "o.jsonl", tmp_path), "--output-format", "quad"]) == 2
    assert "Unknown output_format 'quad'" in capsys.readouterr().err
