"""Run the stages in order with the stage cache, the clock and one line of progress per stage."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from crossrank.fit import export as export_mod
from crossrank.fit import report as report_mod
from crossrank.fit.budget import Clock
from crossrank.fit.cache import StageCache, stage_key
from crossrank.fit.config import FitConfig
from crossrank.fit.size import trained_plan
from crossrank.fit.stages import (
    Context,
    StageFn,
    _inputs_identity,
    first_stage_depth,
    run_first_stage,
    run_mine,
    run_size,
    run_split,
    run_validate,
)
from crossrank.fit.stages_model import rerank_depth, run_evaluate, run_train, run_warm_start

logger = logging.getLogger("crossrank.fit")


def _options(c: FitConfig) -> dict[str, Callable[[], Any]]:
    """Per stage, the options its key depends on (besides the keys of all earlier stages)."""
    return {
        "validate": lambda: {"inputs": _inputs_identity(c)},
        "split": lambda: [c.seed, c.dev_fraction, c.test_fraction, c.max_dev_queries],
        "size": lambda: [c.base, c.embedder, c.time_budget, c.first_stage, c.loss, c.epochs, c.learning_rate,
                         c.max_length, c.rerank_k, c.num_negatives, c.random_negatives, c.batch_pairs, c.warm_start,
                         c.warm_lists, c.export, c.seed],
        "first_stage": lambda: [c.first_stage, c.embedder, first_stage_depth(c)],
        "mine": lambda: [list(c.hard_range), c.margin, c.num_negatives, c.random_negatives, c.seed],
        "warm_start": lambda: [c.base, c.embedder, c.seed],
        "train": lambda: [c.base, c.seed],
        "evaluate": lambda: [c.seed],
        "report": lambda: [],
        "export": lambda: [c.export],
    }


def run_report(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    results = results_json(ctx)
    (work / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return {"results": results}, "report.md, report.html and results.json"


def run_export(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    check = None
    if ctx.config.export != "none" and export_mod.export_available():
        first = ctx.payloads["first_stage"]
        check = export_mod.gate_lists(ctx.payloads["validate"], ctx.payloads["split"]["dev"],
                                      first["runs"][first["chosen"]], ctx.config.seed)
    payload = export_mod.export_model(ctx.folders["train"] / "model", work, ctx.config.export, check)
    return payload, export_mod.summary(payload)


STAGES: dict[str, StageFn] = {
    "validate": run_validate, "split": run_split, "size": run_size, "first_stage": run_first_stage,
    "mine": run_mine, "warm_start": run_warm_start, "train": run_train, "evaluate": run_evaluate,
    "report": run_report, "export": run_export,
}


def results_json(ctx: Context) -> dict[str, Any]:
    ev, train = ctx.payloads["evaluate"], ctx.payloads["train"]
    return {"test": ev["tables"], "test_first_stages": ev["retrievers"], "first_stage": ctx.payloads["first_stage"]
            ["chosen"], "fusion_weight": train["fusion"]["weight"], "dev": train["fusion"]["dev"],
            "dev_first_stage": train["fusion"].get("first_stage"),
            "rerank_k": rerank_depth(ctx),
            "dev_by_depth": train.get("depth_choice", {}).get("by_depth", {}),
            "plan": {k: trained_plan(ctx.payloads)[k] for k in ("loss", "epochs", "learning_rate", "max_length",
                                                              "rerank_k", "max_steps")},
            "seconds": dict(ctx.clock.seconds)}


def check_out(cache: StageCache, resume: bool) -> None:
    done = cache.finished()
    if done and not resume:
        raise ValueError(f"{cache.root} already holds a fit run (finished stages: {', '.join(done)}); pass --resume "
                         "to continue it, or choose another --out.")


def run_stages(config: FitConfig, stop_after: str | None = None) -> Context:
    """Run (or load from the cache) every stage; returns the context with all payloads."""
    out = Path(config.out)
    cache = StageCache(out)
    check_out(cache, config.resume)
    ctx = Context(config, Clock(config.time_budget), out)
    options, keys = _options(config), {}
    for index, (name, fn) in enumerate(STAGES.items(), start=1):
        key = stage_key(name, {"o": options[name]()}, keys)
        record = cache.load(index, name, key) if config.resume else None
        label = f"[{index}/{len(STAGES)}] {name}"
        if record is not None:
            ctx.clock.stop(name, record.seconds, cached=True)
            print(f"{label}: cached ({record.seconds:.0f} s): {record.summary}", flush=True)
        else:
            print(f"{label} ...", flush=True)
            ctx.clock.start()
            work = cache.work(name)
            payload, summary = fn(ctx, work)
            seconds = ctx.clock.stop(name)
            record = cache.save(index, name, key, seconds, summary, payload, lambda tmp, src=work: _move(src, tmp))
            print(f"{label}: done in {seconds:.0f} s: {summary}", flush=True)
        keys[name] = key
        ctx.payloads[name], ctx.folders[name] = record.payload, record.folder
        if name == stop_after:
            break
    return ctx


def _move(src: Path, dst: Path) -> None:
    for child in src.iterdir():
        shutil.move(str(child), str(dst / child.name))


def publish(ctx: Context) -> dict[str, Any]:
    """Copy the result into OUT: model/, onnx/, report.md/.html (with the final times) and results.json."""
    from crossrank.fit.document import to_html, to_markdown
    from crossrank.storage.atomic import atomic_dir_write, atomic_file_write

    out = ctx.out
    atomic_dir_write(out / "model", lambda tmp: shutil.copytree(ctx.folders["train"] / "model", tmp,
                                                               dirs_exist_ok=True))
    onnx = ctx.folders["export"] / "onnx"
    if onnx.is_dir():
        atomic_dir_write(out / "onnx", lambda tmp: shutil.copytree(onnx, tmp, dirs_exist_ok=True))
    commands = [command_line(ctx.config), *serve_commands(ctx)]
    doc = report_mod.build(ctx.payloads, ctx.clock.seconds, ctx.clock.cached, ctx.config.time_budget, commands)
    atomic_file_write(out / "report.md", lambda tmp: tmp.write_text(to_markdown(doc, out), encoding="utf-8"))
    atomic_file_write(out / "report.html", lambda tmp: tmp.write_text(to_html(doc), encoding="utf-8"))
    results = results_json(ctx)
    atomic_file_write(out / "results.json", lambda tmp: tmp.write_text(json.dumps(results, indent=1)))
    return results


def command_line(config: FitConfig) -> str:
    parts = ["crossrank fit", *config.pairs]
    if config.corpus:
        parts += ["--corpus", config.corpus]
    if config.eval:
        parts += ["--eval", *config.eval]
    parts += ["--out", config.out]
    if config.time_budget:
        parts += ["--time-budget", f"{config.time_budget / 60:g}m"]
    return " ".join(parts)


def serve_commands(ctx: Context) -> list[str]:
    model = ctx.out / "model"
    commands = [f"crossrank serve {model}"]
    export = ctx.payloads.get("export", {})
    files = export.get("files", [])
    if files:
        commands.append(f"crossrank serve {ctx.out / 'onnx'} --backend onnx --file-name {files[-1]}")
    return commands


def final_table(results: Mapping[str, Any]) -> str:
    """The printed table: test metrics of the retriever, the reranker and the fused ranking (realistic mode)."""
    table = results["test"]["realistic"]
    names = list(next(iter(table.values())))
    lines = [f"{'test (realistic)':<22}" + "".join(f"{n:>12}" for n in names)]
    for row, label in report_mod.ROW_NAMES.items():
        lines.append(f"{label:<22}" + "".join(f"{table[row][n]:>12.4f}" for n in names))
    return "\n".join(lines)


def fit_run(config: FitConfig) -> dict[str, Any]:
    began = time.monotonic()
    ctx = run_stages(config)
    results = publish(ctx)
    print("\n" + final_table(results))
    for command in serve_commands(ctx):
        print(f"Serve it: {command}")
    print(f"Report: {ctx.out / 'report.html'}  (this session: {time.monotonic() - began:.0f} s)")
    return results
