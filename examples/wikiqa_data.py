"""WikiQA helpers shared by the recipe scripts: offline rows, per-question lists, test samples.

The data is the WikiQA copy in ``../shared/data/wikiqa`` (JSONL rows ``question, sentence, label``,
grouped by ``qid``); pass ``--data`` to the scripts to point elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikiqa"


def load_rows(data_dir: Path, split: str) -> list[dict[str, Any]]:
    """The rows of ``{split}.jsonl`` (``qid``, ``question``, ``sentence``, ``label``)."""
    path = Path(data_dir) / f"{split}.jsonl"
    if not path.is_file():
        raise SystemExit(f"WikiQA split not found at {path}; pass --data to the folder holding {split}.jsonl.")
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``{query, docs, labels}`` list per question, in file order."""
    lists: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = lists.setdefault(row["qid"], {"query": row["question"], "docs": [], "labels": []})
        item["docs"].append(row["sentence"])
        item["labels"].append(int(row["label"]))
    return list(lists.values())


def with_positive(lists: list[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
    """The lists holding at least one positive (WikiQA's evaluation convention), the first ``limit``."""
    kept = [x for x in lists if any(x["labels"])]
    return kept[:limit] if limit else kept


def reranking_samples(lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``RerankingEvaluator`` samples: each question's positive and negative sentences."""
    return [{"query": x["query"],
             "positive": [d for d, lab in zip(x["docs"], x["labels"]) if lab],
             "negative": [d for d, lab in zip(x["docs"], x["labels"]) if not lab]} for x in lists]
