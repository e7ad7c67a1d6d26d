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
    score = float(model.predict([("what is thing 1", "thing 1 is a cat")])[0])
    if not 0.0 <= score <= 1.0:
        raise AssertionError(f"score {score} out of range")
    return fingerprint(output)


@dataclass
class Timing:
    """Measured on a full run: a checkpoint write (median), the final save, and the training after the first
    checkpoint."""

    checkpoint: float
    final: float
    training: float


def calibrate(work: Path, model: Path, data: Path, output: Path) -> tuple[Timing, str]:
    """Watch a full run (1 ms polling): each checkpoint from its folder to its trainer_state.json, the final
    save from its temporary folder appearing to it being swapped in."""
    run = work / "run-calibration"
    proc = launch(config_file(work, model, data, run, output, seed=1000), resume=False)
    seen: dict[str, float] = {}
    written: dict[str, float] = {}
    final_start = final_end = first = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        for folder in run.glob("checkpoint-*"):
            seen.setdefault(folder.name, now)
            first = first or now
            if (folder / "trainer_state.json").is_file():
                written.setdefault(folder.name, now)
        if saving_final(output):
            final_start = final_start or now
        elif final_start and not final_end:
            final_end = now
        time.sleep(0.001)
    _, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"calibration run failed:\n{err}")
    writes = sorted(written[k] - seen[k] for k in written if written[k] > seen[k]) or [0.005]
    timing = Timing(checkpoint=writes[len(writes) // 2], final=max(final_end - final_start, 0.005),
                    training=max((final_start or time.monotonic()) - first, 0.05))
    return timing, check_loadable(output)


def phase_after_kill(run: Path, output: Path) -> str:
    """Where the kill landed, from what it left: a partial checkpoint, a partial final save, or neither."""
    partial = [p.name for p in run.glob("checkpoint-*") if not (p / "trainer_state.json").is_file()]
    if saving_final(output):
        return "final save"
    if partial:
        return "checkpoint write"
    return "training step"


def aim(i: int, run: Path, output: Path, timing: Timing, rng: random.Random) -> tuple[str, float, object]:
    """What round ``i`` waits for, then how long after it the kill comes: inside a checkpoint write, inside the
    final save, or anywhere in training (one in three each)."""
    mode = ("checkpoint", "final", "anywhere")[i % 3]
    if mode == "checkpoint":
        step = rng.randrange(SAVE_STEPS, MAX_STEPS + 1, SAVE_STEPS)
        return mode, rng.uniform(0, timing.checkpoint), lambda: (run / f"checkpoint-{step}").is_dir()
    if mode == "final":
        return mode, rng.uniform(0, timing.final), lambda: saving_final(output)
    return mode, rng.uniform(0, timing.training), lambda: any(run.glob("checkpoint-*"))


def one_round(i: int, work: Path, model: Path, data: Path, output: Path, timing: Timing,
              old: str, rng: random.Random) -> tuple[Round, str]:
    run = work / f"run-{i:02d}"
    cfg = config_file(work, model, data, run, output, seed=i)
    mode, delay, ready = aim(i, run, output, timing, rng)
    result = Round(mode=mode, delay=delay)
    proc = launch(cfg, resume=False)
    if wait_for(proc, ready, 300):
        time.sleep(result.delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result.phase = phase_after_kill(run, output) if proc.returncode == -signal.SIGKILL else "had finished"
    after_kill = ""
    try:
        after_kill = check_loadable(output)
        result.loaded = "old" if after_kill == old else "new"
    except Exception as err:  # noqa: BLE001 - the finding itself
        result.problems.append(f"no loadable model after the kill: {type(err).__name__}: {err}")
    if result.phase == "final save":
        result.phase += ", before the swap" if result.loaded == "old" else ", after the swap"
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
    if result.loaded == "new" and found != after_kill:
        result.problems.append("the model found after the kill is not the run's final model")
    return result, found


def report(rounds: list[Round], args: argparse.Namespace, elapsed: float) -> str:
    from collections import Counter

    passed = sum(1 for r in rounds if not r.problems)
    kills = sum(r.phase != "had finished" for r in rounds)
    phases = Counter(r.phase for r in rounds)
    loaded = Counter(r.loaded for r in rounds if r.loaded)
    lines = [
        f"# Kill test ({date.today().isoformat()})", "",
        f"Command: `python bench/kill_test.py --kills {args.kills} --seed {args.seed}`; {elapsed:.0f} s wall.",
        f"Machine: {os.cpu_count()} CPU cores, no GPU (shared with other jobs).", "",
        f"**{passed} of {len(rounds)} rounds passed, {kills} of them SIGKILLed mid-run** (a model loaded at the "
        "output path right after the SIGKILL, "
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
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    start = time.monotonic()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="crossrank-kill-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        model, data = write_inputs(work)
        output = work / "final"
        timing, old = calibrate(work, model, data, output)
        print(f"calibration: a checkpoint write takes {timing.checkpoint * 1000:.0f} ms (median), the final save "
              f"{timing.final * 1000:.0f} ms, training after the first checkpoint {timing.training:.2f} s", flush=True)
        rounds: list[Round] = []
        for i in range(2 * args.kills):  # rounds whose run finished before the kill do not count as kills
            if sum(r.phase != "had finished" for r in rounds) >= args.kills:
                break
            if time.monotonic() - start > args.time_limit:
                print(f"time limit reached after {i} rounds", flush=True)
                break
            result, old = one_round(i, work, model, data, output, timing, old, rng)
            rounds.append(result)
            print(f"round {i}: aimed at {result.mode} +{result.delay * 1000:.0f} ms, landed in {result.phase}, "
                  f"after kill: {result.loaded or '-'}, resume {'ok' if result.resumed else 'FAILED'}"
                  + (f"; problems: {result.problems}" if result.problems else ""), flush=True)
    text = report(rounds, args, time.monotonic() - start)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    kills = sum(r.phase != "had finished" for r in rounds)
    return 0 if kills >= args.kills and all(not r.problems for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
