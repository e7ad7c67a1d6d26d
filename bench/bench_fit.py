"""``crossrank fit`` against the user's retriever: SciFact and Cranfield under a time budget.

    flock /tmp/crossrank-heavy.lock python bench/bench_fit.py --dataset scifact --time-budget 30m
    flock /tmp/crossrank-heavy.lock python bench/bench_fit.py --dataset cranfield --time-budget 30m

SciFact: the train claims + ``qrels_train.tsv`` are PAIRS, ``corpus.jsonl.gz`` is CORPUS, the dev claims +
``qrels_dev.tsv`` (BEIR's SciFact test split) are ``--eval``. Cranfield: the BEIR folder is PAIRS, its
queries split by fit itself. The baseline is every first stage fit measures (BM25, dense, hybrid) on the same
test queries; the table gives the fused and reranker-alone NDCG@10 against the best of them, the wall time
against the budget, and the machine. Writes ``bench/results/fit-{dataset}.md`` (and the run's report under
``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def fit_arguments(dataset: str, out: Path, budget: str, extra: list[str]) -> list[str]:
    if dataset == "scifact":
        root = SHARED / "scifact"
        args = [str(root / "claims_train.jsonl"), str(root / "qrels_train.tsv"), "--corpus",
                str(root / "corpus.jsonl.gz"), "--eval", str(root / "claims_dev.jsonl"), str(root / "qrels_dev.tsv")]
    elif dataset == "cranfield":
        args = [str(SHARED / "cranfield")]
    else:
        raise SystemExit(f"unknown dataset {dataset!r}; expected scifact or cranfield.")
    return ["fit", *args, "--out", str(out), "--time-budget", budget, *extra]


def table(results: dict, command: str, wall: float, budget: float | None) -> str:
    test, first = results["test"]["realistic"], results["test_first_stages"]
    key = "ndcg@10"
    best_name = max(first, key=lambda n: first[n][key])
    best = first[best_name][key]
    rows = [f"| {n} (first stage) | {m[key]:.4f} | {m['mrr@10']:.4f} | {m['map']:.4f} |" for n, m in first.items()]
    rows += [f"| reranker alone | {test['reranker'][key]:.4f} | {test['reranker']['mrr@10']:.4f} | "
             f"{test['reranker']['map']:.4f} |",
             f"| fused with {results['first_stage']} (weight {results['fusion_weight']:.2f}) | "
             f"{test['fused'][key]:.4f} | {test['fused']['mrr@10']:.4f} | {test['fused']['map']:.4f} |"]
    total = sum(results["seconds"].values())  # cached stages count with the time they took when they ran
    used = f" ({total / budget:.0%} of the budget)" if budget else ""
    resumed = "" if abs(total - wall) < 0.05 * total else f"; this process ran {wall / 60:.1f} min (a resumed run)"
    return "\n".join([
        f"Command: `{command}`", "", f"Machine: {machine()}; date {date.today().isoformat()}; the stages took "
        f"{total / 60:.1f} min{used}{resumed}.", "", "| test ranking | NDCG@10 | MRR@10 | MAP |", "|---|---|---|---|",
        *rows, "",
        f"Fused - best first stage ({best_name}): {test['fused'][key] - best:+.4f} NDCG@10; reranker alone - BM25: "
        f"{test['reranker'][key] - first.get('bm25', {key: float('nan')})[key]:+.4f}.", "",
        f"Plan: {json.dumps(results['plan'])}", f"Seconds per stage: {json.dumps(results['seconds'])}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("scifact", "cranfield"), required=True)
    parser.add_argument("--time-budget", default="30m")
    parser.add_argument("--out", default=None, help="fit's output folder (default /tmp/bench-fit-DATASET)")
    parser.add_argument("--resume", action="store_true")
    args, extra = parser.parse_known_args()
    from crossrank.cli import build_parser
    from crossrank.cli.fit import config_from_args
    from crossrank.fit.config import parse_duration
    from crossrank.fit.runner import fit_run

    out = Path(args.out or f"/tmp/bench-fit-{args.dataset}")
    if out.exists() and not args.resume:
        import shutil

        shutil.rmtree(out)  # the benchmark measures a whole run from scratch
    argv = fit_arguments(args.dataset, out, args.time_budget, extra + (["--resume"] if args.resume else []))
    command = "crossrank " + " ".join(argv)
    start = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        fit_run(config_from_args(build_parser().parse_args(argv)))
    except ValueError as err:  # fit refused the run (e.g. the budget): record what it measured
        text = (f"Command: `{command}`\n\nMachine: {machine()}; date {date.today().isoformat()}.\n\n"
                f"fit refused after {time.monotonic() - start:.0f} s: {err}\n")
        (RESULTS / f"fit-{args.dataset}.md").write_text(f"# crossrank fit on {args.dataset}\n\n{text}")
        print(text)
        raise SystemExit(2) from None
    wall = time.monotonic() - start
    text = table(json.loads((out / "results.json").read_text()), command, wall, parse_duration(args.time_budget))
    (RESULTS / f"fit-{args.dataset}.md").write_text(f"# crossrank fit on {args.dataset}\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
