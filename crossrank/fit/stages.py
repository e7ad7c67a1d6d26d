"""The stages of ``crossrank fit`` in run order, each: what its cache key depends on, and how it runs.

A stage function takes the :class:`Context` (options, earlier stages' payloads, the clock) and a scratch
folder; it returns its JSON payload and leaves any files (a model folder, the report) in the scratch folder,
which the cache then commits atomically.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossrank.fit import first_stage as first_mod
from crossrank.fit import mine as mine_mod
from crossrank.fit import size as size_mod
from crossrank.fit import split as split_mod
from crossrank.fit import validate as validate_mod
from crossrank.fit.budget import Clock
from crossrank.fit.config import FitConfig

FIRST_STAGE_DEPTH = 100


@dataclass
class Context:
    """What a stage can read: the options, finished stages (payload and folder), the clock, the cache root."""

    config: FitConfig
    clock: Clock
    out: Path
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, Path] = field(default_factory=dict)

    @property
    def cache_dir(self) -> Path:
        return self.out / "cache"

    def load_model(self, name: str | None = None) -> Any:
        """The CrossEncoder saved by stage ``name`` (None: the base model, its fresh head seeded)."""
        from transformers import set_seed

        from crossrank.model import CrossEncoder

        set_seed(self.config.seed)
        if name is None:
            return CrossEncoder(self.config.base, num_labels=1)
        return CrossEncoder(str(self.folders[name] / "model"))


def first_stage_depth(config: FitConfig) -> int:
    return max(FIRST_STAGE_DEPTH, config.hard_range[1], config.rerank_k or 0)


def _inputs_identity(config: FitConfig) -> list[Any]:
    """Paths with sizes and modification times: a changed input file changes the validate stage's key."""
    found = []
    for raw in [*config.pairs, *(config.eval or []), *([config.corpus] if config.corpus else [])]:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        found.append([str(path.resolve()), [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files
                                            if p.exists()]])
    return found


def run_validate(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    payload = validate_mod.validate(ctx.config)
    return payload, validate_mod.summary(payload)


def run_split(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    payload = split_mod.split_queries(ctx.payloads["validate"], ctx.config)
    return payload, split_mod.summary(payload)


def run_size(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    payload = size_mod.size_run(ctx.payloads["validate"], ctx.payloads["split"], ctx.config, ctx.clock.elapsed(),
                                ctx.load_model)
    return payload, size_mod.summary(payload)


def run_first_stage(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    size = ctx.payloads["size"]
    choice = size.get("first_stage") or ctx.config.first_stage  # sizing may keep BM25 alone to fit the budget
    payload = first_mod.first_stage(ctx.payloads["validate"], ctx.payloads["split"], choice,
                                    first_stage_depth(ctx.config), ctx.config.embedder, ctx.cache_dir / "embeddings")
    if size.get("first_stage_reason"):
        payload["reason"] = size["first_stage_reason"]
    return payload, first_mod.summary(payload)


def run_mine(ctx: Context, work: Path) -> tuple[dict[str, Any], str]:
    first = ctx.payloads["first_stage"]
    negatives = ctx.payloads["size"].get("num_negatives", ctx.config.num_negatives)
    payload = mine_mod.mine(ctx.payloads["validate"], ctx.payloads["split"], first["runs"][first["chosen"]],
                            dataclasses.replace(ctx.config, num_negatives=negatives))
    return payload, mine_mod.summary(payload)


StageFn = Callable[[Context, Path], tuple[dict[str, Any], str]]
