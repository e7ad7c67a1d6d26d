"""``crossrank fit`` through the real CLI on a slice of SciFact with the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crossrank.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _slice(shared: Path, folder: Path, claims: int, dev_claims: int, extra_docs: int) -> dict[str, Path]:
    """The first ``claims`` train and ``dev_claims`` dev claims, their qrels, cited abstracts + ``extra_docs`` more."""
    root = shared / "scifact"
    folder.mkdir(parents=True)
    keep: set[str] = set()
    out = {}
    for split, count in (("train", claims), ("dev", dev_claims)):
        rows = [json.loads(line) for line in (root / f"claims_{split}.jsonl").open()]
        qrels = (root / f"qrels_{split}.tsv").read_text().splitlines()
        ids = {r["_id"] for r in rows[: 4 * count]}
        judged = [line for line in qrels[1:] if line.split("\t")[0] in ids]
        chosen = sorted({line.split("\t")[0] for line in judged}, key=lambda q: int(q))[:count]
        lines = [line for line in judged if line.split("\t")[0] in set(chosen)]
        keep |= {line.split("\t")[1] for line in lines}
        (folder / f"claims_{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows if r["_id"] in
                                                              set(chosen)))
        (folder / f"qrels_{split}.tsv").write_text("\n".join([qrels[0], *lines]) + "\n")
        out[split] = folder / f"claims_{split}.jsonl"
    with gzip.open(root / "corpus.jsonl.gz", "rt") as handle:
        docs = [json.loads(line) for line in handle]
    picked = [d for d in docs if d["_id"] in keep] + [d for d in docs if d["_id"] not in keep][:extra_docs]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in picked))
    return {**out, "corpus": folder / "corpus.jsonl", "folder": folder}


def test_fit_on_a_scifact_slice(minilm_path: Path, shared_data: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture) -> None:
    data = _slice(shared_data, tmp_path / "data", claims=40, dev_claims=12, extra_docs=150)
    out = tmp_path / "out"
    rc = main(["fit", str(data["train"]), str(data["folder"] / "qrels_train.tsv"), "--corpus", str(data["corpus"]),
               "--eval", str(data["dev"]), str(data["folder"] / "qrels_dev.tsv"), "--out", str(out),
               "--epochs", "1", "--rerank-k", "20", "--max-length", "128", "--export", "none",
               "--time-budget", "20m"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "query 'text', document none (documents from qrels), label none (every row is relevant), query id '_id'" \
        in printed
    results = json.loads((out / "results.json").read_text())
    assert set(results["test_first_stages"]) == {"bm25", "dense", "hybrid"}
    assert results["first_stage"] in {"bm25", "dense", "hybrid"}
    realistic = results["test"]["realistic"]
    assert realistic["retriever"]["ndcg@10"] == pytest.approx(results["test_first_stages"][results["first_stage"]]
                                                              ["ndcg@10"])
    assert all(0.0 <= v <= 1.0 for row in realistic.values() for v in row.values())
    report = (out / "report.md").read_text()
    assert "query 'text', document none (documents from qrels)" in report
    assert "12 queries of the --eval queries" in report
    assert "test (realistic)" in printed and "Serve it: crossrank serve" in printed
