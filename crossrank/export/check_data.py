"""The pairs the parity gate scores: ``--check-data`` (labelled or not) or a small built-in sample.

A check file is JSONL/CSV/Parquet in one of the layouts crossrank reads elsewhere: evaluator samples
(``query``, ``positive``, ``negative`` or ``documents``), labelled pairs (query, document, label: grouped per
query), or plain (query, document) pairs (grouped per query, no labels). Candidate lists give top-1 agreement;
labels add the ranking-metric change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUERY_NAMES = ("query", "question", "anchor", "claim")
DOCUMENT_NAMES = ("document", "passage", "answer", "sentence", "text", "abstract")


@dataclass
class CandidateList:
    """One query's documents; ``gains`` (1 relevant, 0 not) when the check data is labelled."""

    query: str
    documents: list[str]
    gains: list[float] | None = None


# Built-in sample (written for crossrank): a few questions with one fitting and several near-miss passages.
_BUILT_IN: list[tuple[str, list[str]]] = [
    ("how do plants make their food", [
        "Plants turn sunlight, water and carbon dioxide into sugar in their leaves; the process is photosynthesis.",
        "Many houseplants need watering once a week during the summer months.",
        "The roots of a tree can reach far beyond the width of its crown.",
        "Fungi feed by breaking down dead organic material around them.",
    ]),
    ("what is the boiling point of water at sea level", [
        "At standard atmospheric pressure water boils at 100 degrees Celsius, or 212 degrees Fahrenheit.",
        "Salt water freezes at a lower temperature than fresh water.",
        "Mountaineers find that pasta takes longer to cook at high altitude.",
        "Steam engines drove the early railways of the nineteenth century.",
    ]),
    ("who wrote the novel pride and prejudice", [
        "Pride and Prejudice is an 1813 novel by the English author Jane Austen.",
        "Charlotte Bronte published Jane Eyre under the pen name Currer Bell.",
        "The novel has been adapted for film and television many times.",
        "Bath was a fashionable spa town in Georgian England.",
    ]),
    ("how many bones are in the adult human body", [
        "An adult human skeleton is made of 206 bones, fewer than a newborn's because some fuse during growth.",
        "Calcium and vitamin D help keep bones strong.",
        "The femur is the longest bone in the body.",
        "Sharks have skeletons made of cartilage rather than bone.",
    ]),
    ("when did the first person walk on the moon", [
        "Neil Armstrong stepped onto the lunar surface on 20 July 1969 during the Apollo 11 mission.",
        "The Moon's gravity is about one sixth of the Earth's.",
        "Sputnik 1, launched in 1957, was the first artificial satellite.",
        "Tides are caused mainly by the gravitational pull of the Moon.",
    ]),
    ("what causes the seasons on earth", [
        "Seasons come from the tilt of the Earth's axis, which changes how directly sunlight strikes each hemisphere.",
        "The Earth is closest to the Sun in early January.",
        "Autumn leaves change colour as chlorophyll breaks down.",
        "Monsoon rains arrive in South Asia in early summer.",
    ]),
    ("which programming language is used to style web pages", [
        "Cascading Style Sheets (CSS) describe how the elements of an HTML page are laid out and coloured.",
        "Python is popular for data analysis and machine learning.",
        "HTTP is the protocol browsers use to request pages from servers.",
        "A compiler translates source code into machine code.",
    ]),
    ("what is the capital city of australia", [
        "Canberra, not Sydney, is the capital of Australia; it was chosen as a compromise between two rivals.",
        "Sydney is the largest city in Australia.",
        "Australia's states include New South Wales, Victoria and Queensland.",
        "The Great Barrier Reef lies off the coast of Queensland.",
    ]),
]


def built_in_sample() -> list[CandidateList]:
    """The built-in candidate lists (first document relevant)."""
    return [CandidateList(q, list(docs), [1.0] + [0.0] * (len(docs) - 1)) for q, docs in _BUILT_IN]


def _from_samples(rows: Any) -> list[CandidateList]:
    lists = []
    for row in rows:
        positives = [row["positive"]] if isinstance(row["positive"], str) else list(row["positive"])
        others = list(row.get("negative") or row.get("documents") or [])
        docs = positives + [d for d in others if d not in positives]
        lists.append(CandidateList(row["query"], docs, [1.0] * len(positives) + [0.0] * (len(docs) - len(positives))))
    return lists


def read_check_data(path: str | os.PathLike[str]) -> list[CandidateList]:
    """Candidate lists from a check file (see the module docstring); a one-line error for anything else."""
    from crossrank.data.io import load_dataset_file

    if not Path(path).is_file():
        raise FileNotFoundError(f"check data {str(path)!r} does not exist; pass a JSONL/CSV/Parquet file of pairs.")
    rows = load_dataset_file(path)
    columns = list(rows.column_names)
    lists = _from_samples(rows) if "query" in columns and "positive" in columns else _group_pairs(rows, columns)
    if not any(lst.documents for lst in lists):
        raise ValueError(f"check data {str(path)!r} holds no (query, document) pairs.")
    return lists


def _group_pairs(rows: Any, columns: list[str]) -> list[CandidateList]:
    from crossrank.data.columns import resolve_columns

    roles = resolve_columns(columns)
    if len(roles.inputs) < 2:
        raise ValueError(
            f"check data needs (query, document) text columns, or query/positive/negative samples; found columns "
            f"{columns}."
        )
    q_col = next((c for c in QUERY_NAMES if c in roles.inputs), roles.inputs[0])
    d_col = next((c for c in DOCUMENT_NAMES if c in roles.inputs and c != q_col),
                 next(c for c in roles.inputs if c != q_col))
    grouped: dict[str, CandidateList] = {}
    labels = rows[roles.label] if roles.label else [None] * len(rows)
    for query, doc, label in zip(rows[q_col], rows[d_col], labels):
        item = grouped.setdefault(query, CandidateList(query, [], [] if roles.label else None))
        item.documents.append(doc)
        if item.gains is not None:
            item.gains.append(1.0 if float(label) > 0.5 else 0.0)
    return list(grouped.values())
