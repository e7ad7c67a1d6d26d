"""Shared builders of the reliability tests: small data files and ``crossrank train`` configs."""

from __future__ import annotations

import json
from pathlib import Path

QUESTIONS = ["what is the capital of france", "who wrote the book", "where is the river", "what is a cat"]
SENTENCES = ["paris is the capital of france", "the author wrote the book", "the river is big",
             "the cat is an animal"]


def wide_rows() -> list[dict]:
    """WikiQA-shaped rows: qid, question, sid, sentence, label and more columns (question is not first)."""
    return [{"qid": f"q{i}", "question": q, "sid": f"s{i}{j}", "sentence": d, "label": int(i == j),
             "doc_title": "t"} for i, q in enumerate(QUESTIONS) for j, d in enumerate(SENTENCES)]


def pair_rows() -> list[dict]:
    return [{"question": r["question"], "sentence": r["sentence"], "label": r["label"]} for r in wide_rows()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_config(folder: Path, model: Path, extra: str = "", training: str = "", train: str = "pairs.jsonl",
                 evaluator: bool = True) -> Path:
    """A train config in ``folder`` with pairs.jsonl / wide.jsonl beside it; ``training`` adds keys."""
    write_jsonl(folder / "pairs.jsonl", pair_rows())
    write_jsonl(folder / "wide.jsonl", wide_rows())
    cfg = folder / "cfg.yaml"
    cfg.write_text(
        f"model: {{name_or_path: {model}, max_length: 64}}\n"
        f"data: {{train: {train}}}\n"
        + ("evaluator: {type: reranking, data: wide.jsonl, name: toy}\n" if evaluator else "")
        + f"training: {{output_dir: {folder / 'run'}, {'' if 'max_steps' in training else 'max_steps: 2, '}"
        "per_device_train_batch_size: 4, "
        f"use_cpu: true, disable_tqdm: true{', ' + training if training else ''}}}\n" + extra
    )
    return cfg


def last_error(err: str) -> str:
    """The last stderr line (the one-line error of a CLI failure)."""
    lines = err.strip().splitlines()
    return lines[-1] if lines else ""
