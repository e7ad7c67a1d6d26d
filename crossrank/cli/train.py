"""``crossrank train CONFIG.yaml [--key value ...]``: train, evaluate before/after, save."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import logging
import math
from pathlib import Path
from typing import Any

from crossrank.cli import CLIError
from crossrank.cli.config import load_config, resolve_path

logger = logging.getLogger("crossrank.train")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a reranker from a YAML config",
                       description="Train a reranker. Overrides: --training.learning_rate 3e-5, --model path ...")
    p.add_argument("config", help="YAML file (see crossrank.cli.config)")
    p.add_argument("--resume-from-checkpoint", default=None, help="checkpoint folder, or 'true' for the latest")
    p.set_defaults(overrides=[])


def load_split(config: dict[str, Any], spec: Any) -> Any:
    """A ``datasets.Dataset`` from a data spec: a path, or {path, split, columns, limit, lists}."""
    from crossrank.data.io import load_dataset_file

    spec = {"path": spec} if isinstance(spec, str) else dict(spec)
    if "path" not in spec:
        raise CLIError(f"a data entry needs 'path'; found keys {sorted(spec)}.")
    dataset = load_dataset_file(resolve_path(config, spec["path"]), split=spec.get("split"))
    if spec.get("columns"):
        missing = [c for c in spec["columns"] if c not in dataset.column_names]
        if missing:
            raise CLIError(f"columns {missing} are not in {spec['path']}; it has {dataset.column_names}.")
        dataset = dataset.select_columns(list(spec["columns"]))
    if spec.get("limit"):
        dataset = dataset.select(range(min(int(spec["limit"]), len(dataset))))
    if spec.get("lists"):
        from crossrank.data.grouping import pairs_to_lists

        try:
            dataset = pairs_to_lists(dataset)
        except ValueError as err:
            raise CLIError(f"data {spec['path']}: {err}") from err
    return dataset


def mine_section(config: dict[str, Any]) -> dict[str, Any]:
    """The ``mine:`` section with its model and corpus paths resolved like the other paths."""
    from crossrank.inference.loading import resolve_model_source

    section = dict(config["mine"])
    if "model" not in section:
        raise CLIError("the 'mine' section needs 'model': an embedding model folder or package:NAME.")
    section["model"] = resolve_model_source(resolve_path(config, str(section["model"])))
    if isinstance(section.get("corpus"), str):
        section["corpus"] = resolve_path(config, section["corpus"])
    return section


def build_model(config: dict[str, Any]) -> Any:
    from crossrank.model import CrossEncoder

    spec = config["model"]
    spec = {"name_or_path": spec} if isinstance(spec, str) else dict(spec)
    spec["name_or_path"] = resolve_path(config, str(spec["name_or_path"]))
    return CrossEncoder(spec.pop("name_or_path"), **spec)


def build_loss(config: dict[str, Any], model: Any) -> Any:
    import crossrank.losses as losses

    spec = config.get("loss") or "BinaryCrossEntropyLoss"
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = spec.pop("name", None)
    cls = getattr(losses, str(name), None)
    if not isinstance(cls, type):
        close = difflib.get_close_matches(str(name), losses.__all__, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise CLIError(f"unknown loss {name!r}; expected one of {', '.join(losses.__all__)}.{hint}")
    try:
        return cls(model, **spec)
    except TypeError as err:
        raise CLIError(f"loss {name}: {err}") from err


def build_evaluator(config: dict[str, Any]) -> Any:
    spec = config.get("evaluator")
    if not spec:
        return None
    from crossrank.data.grouping import group_labeled_pairs
    from crossrank.evaluation import RerankingEvaluator

    kind = spec.get("type", "reranking")
    if kind != "reranking":
        raise CLIError(f"evaluator type {kind!r} is not available in train configs yet; use 'reranking'.")
    if "data" not in spec:
        raise CLIError("the evaluator needs 'data': a file of (query, document, label) rows.")
    samples = group_labeled_pairs(load_split(config, spec["data"]))
    if spec.get("max_queries"):
        samples = samples[: int(spec["max_queries"])]
    if spec.get("first_stage"):
        from crossrank.inference.loading import resolve_model_source
        from crossrank.mining.eval_samples import add_first_stage_scores

        first_stage = resolve_model_source(resolve_path(config, str(spec["first_stage"])))
        samples = add_first_stage_scores([s for s in samples if s["positive"]], first_stage)
    kwargs = {k: spec[k] for k in ("at_k", "batch_size", "always_rerank_positives") if k in spec}
    return RerankingEvaluator(samples, name=spec.get("name", "dev"), **kwargs)


def build_args(config: dict[str, Any], train_rows: int, evaluator: Any) -> Any:
    """TrainingArguments from the ``training`` section, with evaluation-aware defaults."""
    from crossrank.training.args import TrainingArguments

    given = dict(config.get("training") or {})
    fields = {f.name for f in dataclasses.fields(TrainingArguments) if f.init}
    for key in given:
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CLIError(f"unknown key {key!r} in section 'training' (TrainingArguments).{hint}")
    given.setdefault("output_dir", "runs/crossrank")
    given.setdefault("warmup_steps", 0.1)
    given.setdefault("logging_steps", 20)
    if "seed" in config:
        given.setdefault("seed", int(config["seed"]))
    if evaluator is not None and "eval_strategy" not in given:
        per_step = given.get("per_device_train_batch_size", 8) * given.get("gradient_accumulation_steps", 1)
        steps = math.ceil(train_rows / per_step) * float(given.get("num_train_epochs", 3))
        every = max(1, math.ceil(steps / 5))
        given.update(eval_strategy="steps", eval_steps=every, save_strategy="steps", save_steps=every,
                     save_total_limit=2, load_best_model_at_end=True, greater_is_better=True,
                     metric_for_best_model=f"eval_{evaluator.primary_metric}")
    try:
        return TrainingArguments(**given)
    except (TypeError, ValueError) as err:
        raise CLIError(f"training arguments: {str(err).splitlines()[0]}") from err


def metrics_table(before: dict[str, float], after: dict[str, float]) -> str:
    """Before/after/change per metric; a metric measured only after training shows ``-`` before."""
    rows = [f"{'metric':<28}{'before':>10}{'after':>10}{'change':>10}"]
    for key, value in after.items():
        if key in before:
            rows.append(f"{key:<28}{before[key]:>10.4f}{value:>10.4f}{value - before[key]:>+10.4f}")
        else:
            rows.append(f"{key:<28}{'-':>10}{value:>10.4f}{'-':>10}")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    from transformers import set_seed

    from crossrank.training.trainer import Trainer

    config = load_config(args.config, list(args.overrides))
    fusion_spec(config)  # fail on a bad section before any training
    set_seed(int(config.get("seed", 42)))
    model = build_model(config)
    train = load_split(config, config["data"]["train"])
    if config.get("mine"):
        from crossrank.mining.config import mine_from_config

        train = mine_from_config(mine_section(config), train)
    eval_data = config["data"].get("eval")
    eval_dataset = load_split(config, eval_data) if eval_data else None
    loss = build_loss(config, model)
    evaluator = build_evaluator(config)
    training_args = build_args(config, len(train), evaluator)
    before = evaluator(model) if evaluator else {}
    trainer = Trainer(model, training_args, train_dataset=train, eval_dataset=eval_dataset,
                      loss=loss, evaluator=evaluator)
    resume = args.resume_from_checkpoint
    trainer.train(resume_from_checkpoint=True if resume == "true" else resume)
    fusion_note = tune_fusion(config, model, evaluator)
    after = evaluator(model) if evaluator else {}
    out = Path(config.get("output") or Path(training_args.output_dir) / "final")
    model.save_pretrained(out)
    from crossrank.model_card import write_model_card

    write_model_card(out, trainer=trainer, evaluator_metrics=after or None)
    (out.parent / f"{out.name}-metrics.json").write_text(json.dumps({"before": before, "after": after}, indent=2))
    print(f"\nSaved the trained reranker to {out}")
    if evaluator:
        print(metrics_table(before, after))
    if fusion_note:
        print(fusion_note)
    return 0


def fusion_spec(config: dict[str, Any]) -> dict[str, Any] | None:
    """The checked ``fusion:`` section ({} for the defaults), or None when it is ``false``."""
    spec = config.get("fusion", True)
    if spec is False:
        return None
    spec = {} if spec is True else dict(spec)
    unknown = set(spec) - {"metric", "normalize", "weights", "rule"}
    if unknown:
        raise CLIError(f"unknown key(s) {sorted(unknown)} in section 'fusion'; "
                       "expected metric, normalize, weights, rule.")
    return spec


def tune_fusion(config: dict[str, Any], model: Any, evaluator: Any) -> str:
    """Tune and store the first-stage fusion weight on the evaluator's samples; returns a note to print.

    On by default when the evaluator has a ``first_stage``; ``fusion: false`` turns it off and
    ``fusion: {metric: ndcg@10, normalize: minmax}`` changes what is tuned.
    """
    spec = fusion_spec(config)
    if spec is None or evaluator is None or not getattr(evaluator, "has_first_stage", False):
        return ""
    try:
        fusion, curve = evaluator.tune_fusion(model, metric=spec.get("metric", "map"), weights=spec.get("weights"),
                                              normalize=spec.get("normalize", "zscore"),
                                              rule=spec.get("rule", "plateau"))
    except ValueError as err:
        raise CLIError(f"fusion: {err}") from err
    model.fusion = fusion
    alone = f" vs {curve[0.0]:.4f} for the reranker alone" if 0.0 in curve else ""
    best = max(curve, key=lambda w: curve[w])
    return (f"First-stage fusion: weight {fusion.weight:.2f} on the first-stage score ({fusion.normalize}), "
            f"tuned on {fusion.tuned_on}: {curve[fusion.weight]:.4f}{alone}; best single weight "
            f"{best:.2f} ({curve[best]:.4f}). "
            "The fused_* rows above are measured on the samples the weight was tuned on.")
