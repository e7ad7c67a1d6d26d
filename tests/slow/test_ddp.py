"""Data-parallel training with ``torchrun --nproc_per_node 2`` (gloo, CPU) matches one process.

Two processes with 4 rows each per step see the same global batch of 8 as one process with batch 8
(the sampler is seeded, ``accelerate`` hands process r every other batch), so with dropout off the
loss curves agree to float noise. The evaluator runs on the main process only and its metrics reach
both processes, so ``load_best_model_at_end`` picks the same checkpoint everywhere.

Run: ``python -m pytest -m slow tests/slow/test_ddp.py``. This file is also the worker script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
ROWS = [
    {"query": "what is the capital of france", "doc": "paris is the capital of france", "label": 1},
    {"query": "what is the capital of france", "doc": "the dog is an animal", "label": 0},
    {"query": "who wrote the book", "doc": "the author wrote the book", "label": 1},
    {"query": "who wrote the book", "doc": "the river is big", "label": 0},
    {"query": "where is the moon", "doc": "the moon is in the sky", "label": 1},
    {"query": "where is the moon", "doc": "the apple is food", "label": 0},
    {"query": "what is water", "doc": "water is a drink", "label": 1},
    {"query": "what is water", "doc": "the king was born", "label": 0},
] * 4


class PositiveMean:
    """Evaluator: mean score of the positive pairs; counts its calls in this process."""

    name = "toy"
    primary_metric = "toy_pos"
    greater_is_better = True

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, model: object, output_path: str | None = None, epoch: float = -1,
                 steps: int = -1) -> dict[str, float]:
        import numpy as np

        self.calls += 1
        pos = [(r["query"], r["doc"]) for r in ROWS[:8] if r["label"] == 1]
        return {"toy_pos": float(np.mean(model.predict(pos)))}  # type: ignore[attr-defined]


def worker(model_path: str, out: str, batch_size: int, mini_batch_size: int | None) -> None:
    """Train 6 steps, evaluating every 2, and write this process's log history and evaluator calls."""
    import datasets

    from crossrank import CrossEncoder, Trainer, TrainingArguments

    model = CrossEncoder(model_path)
    evaluator = PositiveMean()
    args = TrainingArguments(output_dir=out, per_device_train_batch_size=batch_size, learning_rate=3e-3, use_cpu=True,
                             seed=0, logging_steps=1, max_steps=6, eval_strategy="steps", eval_steps=2,
                             save_strategy="steps", save_steps=2, load_best_model_at_end=True,
                             metric_for_best_model="eval_toy_pos", report_to="none", disable_tqdm=True,
                             mini_batch_size=mini_batch_size)
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(ROWS), evaluator=evaluator)
    trainer.train()
    rank = trainer.args.process_index
    result = {"world_size": trainer.args.world_size, "calls": evaluator.calls, "history": trainer.state.log_history,
              "best": trainer.state.best_model_checkpoint}
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))


def no_dropout_copy(tiny_bert: Path, dst: Path) -> Path:
    shutil.copytree(tiny_bert, dst)
    config = json.loads((dst / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (dst / "config.json").write_text(json.dumps(config))
    return dst


def run(cmd: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def losses(history: list[dict[str, float]]) -> list[float]:
    return [h["loss"] for h in history if "loss" in h]


@pytest.mark.slow
@pytest.mark.parametrize(("chunk", "batch"), [("0", 4), ("3", 4), ("0", 16)])
def test_two_gloo_processes_match_one(tiny_bert: Path, tmp_path: Path, chunk: str, batch: int) -> None:
    """``chunk`` 3: memory-bounded scoring under DDP (chunks replayed, one all-reduce per step);
    ``batch`` 16: each process scores its batch in two length-sorted pieces (length bucketing)."""
    model = no_dropout_copy(tiny_bert, tmp_path / "model")
    one, two = tmp_path / "one", tmp_path / "two"
    run([sys.executable, str(HERE), str(model), str(one), str(2 * batch), chunk])
    torchrun = Path(sys.executable).with_name("torchrun")
    run([str(torchrun), "--nproc_per_node", "2", "--master_port", "29533", str(HERE), str(model), str(two),
         str(batch), chunk])
    single = json.loads((one / "rank0.json").read_text())
    ranks = [json.loads((two / f"rank{r}.json").read_text()) for r in range(2)]
    assert single["world_size"] == 1 and ranks[0]["world_size"] == 2
    assert single["calls"] == 3 and ranks[0]["calls"] == 3 and ranks[1]["calls"] == 0
    expected = losses(single["history"])
    assert len(expected) == 6
    for rank in ranks:
        assert losses(rank["history"]) == pytest.approx(expected, abs=1e-4)
    evals = [[h["eval_toy_pos"] for h in r["history"] if "eval_toy_pos" in h] for r in ranks]
    assert evals[0] == evals[1] and len(evals[0]) == 3
    assert Path(ranks[0]["best"]).name == Path(ranks[1]["best"]).name == Path(single["best"]).name


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) or None)
