"""Kill test: SIGKILL ``crossrank train`` at random instants while it checkpoints and saves, then check.

Every round starts a run into a fresh ``output_dir`` whose final model goes to one shared ``output`` folder
(holding the previous round's model), kills it with SIGKILL at a random instant of its training (which is
mostly checkpointing: a tiny BERT, a checkpoint every few steps) or of its final save, and then checks:

1. a model loads from the output path, and it is the old one or the new one (never missing or mixed);
2. ``crossrank train ... --resume-from-checkpoint true`` on the same ``output_dir`` completes: exit 0, the last
   checkpoint at ``max_steps``, a loadable new model at the output path, and no leftovers beside it.

Usage: ``python bench/kill_test.py [--kills 20] [--time-limit 900] [--out bench/results/kill_test.md]``.
Exit status 0 only when every round passed. A fast version runs as a slow-marked test
(``tests/slow/test_kill.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
MAX_STEPS = 24
SAVE_STEPS = 2


@dataclass
class Round:
    """What one kill found."""

    mode: str
    delay: float
    phase: str = ""
    loaded: str = ""
    resumed: bool = False
    problems: list[str] = field(default_factory=list)


def write_inputs(work: Path) -> tuple[Path, Path]:
    """A tiny BERT and a small (question, sentence, label) file in ``work``."""
    from conftest import build_tiny_bert

    model = build_tiny_bert(work / "tiny-bert")
    rows = [{"question": f"what is thing {i}", "sentence": f"thing {j} is a {'cat' if i == j else 'dog'}",
             "label": int(i == j)} for i in range(8) for j in range(4)]
    data = work / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return model, data


def config_file(work: Path, model: Path, data: Path, run: Path, output: Path, seed: int) -> Path:
    """A run config; each round has its own seed, so its model differs from the previous round's."""
    cfg = work / f"{run.name}.yaml"
    cfg.write_text(
        f"model: {{name_or_path: {model}, max_length: 32}}\n"
        f"data: {{train: {data}}}\n"
        f"training: {{output_dir: {run}, max_steps: {MAX_STEPS}, save_steps: {SAVE_STEPS}, save_strategy: steps, "
        "save_total_limit: 2, per_device_train_batch_size: 4, use_cpu: true, disable_tqdm: true, "
        "logging_steps: 4}\n"
        f"output: {output}\nseed: {seed}\n"
    )
    return cfg


def launch(cfg: Path, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from crossrank.cli import main; sys.exit(main())", "train", str(cfg)]
    if resume:
        cmd += ["--resume-from-checkpoint", "true"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def saving_final(output: Path) -> bool:
    return any(p.name.startswith(f".{output.name}.tmp-") for p in output.parent.iterdir())


def wait_for(proc: subprocess.Popen, ready, timeout: float) -> bool:
    """Poll every millisecond until ``ready()`` or the process ends; True when ready first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if ready():
            return True
        time.sleep(0.001)
    return False


def fingerprint(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()[:12]


def check_loadable(output: Path) -> str:
    """Load the model at ``output`` and score a pair; returns its weights' fingerprint."""
    from crossrank import CrossEncoder

    model = CrossEncoder(output, device="cpu")
    score = float(model.predict([("what is thing 1", "thing 1 is a cat")]))
    if not 0.0 <= score <= 1.0:
        raise AssertionError(f"score {score} out of range")
    return fingerprint(output)


def calibrate(work: Path, model: Path, data: Path, output: Path) -> tuple[float, float, str]:
    """A full run: the time from its first checkpoint to its final save, and from there to its end."""
    run = work / "run-calibration"
    proc = launch(config_file(work, model, data, run, output, seed=1000), resume=False)
    wait_for(proc, lambda: any(run.glob("checkpoint-*")), 300)
    t0 = time.monotonic()
    wait_for(proc, lambda: saving_final(output), 300)
    t1 = time.monotonic()
    _, err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        sys.exit(f"calibration run failed:\n{err}")
    return t1 - t0, max(time.monotonic() - t1, 0.01), check_loadable(output)


def phase_after_kill(run: Path, output: Path) -> str:
    """Where the kill landed, from what it left: a partial checkpoint, a partial final save, or neither."""
    partial = [p.name for p in run.glob("checkpoint-*") if not (p / "trainer_state.json").is_file()]
    if saving_final(output):
        return "final save"
    if partial:
        return "checkpoint write"
    return "training step"


def one_round(i: int, work: Path, model: Path, data: Path, output: Path, timing: tuple[float, float],
              old: str, rng: random.Random) -> tuple[Round, str]:
    run = work / f"run-{i:02d}"
    cfg = config_file(work, model, data, run, output, seed=i)
    train_time, save_time = timing
    mode = "final" if i % 3 == 2 else "checkpoint"
    result = Round(mode=mode, delay=rng.uniform(0, save_time if mode == "final" else train_time))
    proc = launch(cfg, resume=False)
    ready = (lambda: saving_final(output)) if mode == "final" else (lambda: any(run.glob("checkpoint-*")))
    if wait_for(proc, ready, 300):
        time.sleep(result.delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result.phase = phase_after_kill(run, output) if proc.returncode == -signal.SIGKILL else "had finished"
    try:
        found = check_loadable(output)
        result.loaded = "old" if found == old else "new"
    except Exception as err:  # noqa: BLE001 - the finding itself
        result.problems.append(f"no loadable model after the kill: {type(err).__name__}: {err}")
        found = old
    resumed = launch(cfg, resume=True)
    _, err = resumed.communicate(timeout=600)
    if resumed.returncode != 0:
        result.problems.append(f"resume failed ({resumed.returncode}): {err.strip().splitlines()[-1:]}")
        return result, found
    state = max(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    step = json.loads((state / "trainer_state.json").read_text())["global_step"]
    leftovers = sorted(p.name for p in output.parent.iterdir() if p.name.startswith(f".{output.name}."))
    if step != MAX_STEPS:
        result.problems.append(f"resumed run ended at step {step}, not {MAX_STEPS}")
    if leftovers:
        result.problems.append(f"leftovers beside the output: {leftovers}")
    try:
        found = check_loadable(output)
        result.resumed = True
    except Exception as err:  # noqa: BLE001
        result.problems.append(f"no loadable model after the resume: {type(err).__name__}: {err}")
    return result, found


def report(rounds: list[Round], args: argparse.Namespace, elapsed: float) -> str:
    from collections import Counter

    passed = sum(1 for r in rounds if not r.problems)
    phases = Counter(r.phase for r in rounds)
    loaded = Counter(r.loaded for r in rounds if r.loaded)
    lines = [
        f"# Kill test ({date.today().isoformat()})", "",
        f"Command: `python bench/kill_test.py --kills {args.kills} --seed {args.seed}`; {elapsed:.0f} s wall.",
        f"Machine: {os.cpu_count()} CPU cores, no GPU (shared with other jobs).", "",
        f"**{passed} of {len(rounds)} rounds passed** (a model loaded at the output path right after the SIGKILL, "
        "and the resumed run completed with a loadable new model and no leftovers).", "",
        "Where the kills landed (from what each left behind): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(phases.items())) + ".",
        "Model at the output path right after the kill: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(loaded.items())) + ".", "",
        "| round | aimed at | delay (ms) | landed in | model after kill | resume | problems |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rounds):
        lines.append(f"| {i} | {r.mode} | {r.delay * 1000:.0f} | {r.phase} | {r.loaded or '-'} | "
                     f"{'ok' if r.resumed else 'FAILED'} | {'; '.join(r.problems) or '-'} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=900, help="stop starting rounds after this many s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    args = parser.parse_args()
    import tempfile

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="crossrank-kill-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        model, data = write_inputs(work)
        output = work / "final"
        train_time, save_time, old = calibrate(work, model, data, output)
        print(f"calibration: {train_time:.2f} s of training after the first checkpoint, {save_time * 1000:.0f} ms "
              "from the start of the final save to the end", flush=True)
        rounds: list[Round] = []
        for i in range(args.kills):
            if time.monotonic() - start > args.time_limit:
                print(f"time limit reached after {i} rounds", flush=True)
                break
            result, old = one_round(i, work, model, data, output, (train_time, save_time), old, rng)
            rounds.append(result)
            print(f"round {i}: aimed at {result.mode} +{result.delay * 1000:.0f} ms, landed in {result.phase}, "
                  f"after kill: {result.loaded or '-'}, resume {'ok' if result.resumed else 'FAILED'}"
                  + (f"; problems: {result.problems}" if result.problems else ""), flush=True)
    text = report(rounds, args, time.monotonic() - start)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0 if rounds and len(rounds) == args.kills and all(not r.problems for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
