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
    if spec.get("limit") is not None:
        from crossrank.data.limits import check_limit

        dataset = dataset.select(range(min(check_limit(spec["limit"], spec["path"]), len(dataset))))
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
    given.setdefault("disable_tqdm", False)  # a progress bar (steps, rate, time left) even with quiet logs
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


def output_paths(config: dict[str, Any]) -> tuple[Path, Path]:
    """(output_dir, final model folder) as ``build_args`` and ``run`` will use them."""
    output_dir = Path((config.get("training") or {}).get("output_dir", "runs/crossrank"))
    return output_dir, Path(config.get("output") or output_dir / "final")


def run(args: argparse.Namespace) -> int:
    from crossrank.storage.lock import main_process_lock
    from crossrank.storage.preflight import check_train_outputs

    config = load_config(args.config, list(args.overrides))
    fusion_spec(config)  # fail on a bad section before any training
    output_dir, out = output_paths(config)
    check_train_outputs(output_dir, out)  # before any work: a bad output must not cost a training run
    with main_process_lock(output_dir):  # one run per output_dir; a second one fails fast naming this one
        return train_and_save(args, config, out)


def train_and_save(args: argparse.Namespace, config: dict[str, Any], out: Path) -> int:
    """Build everything, validate every input before the first long step, train, save, print the table."""
    from transformers import set_seed

    from crossrank.training.multi import validate_datasets
    from crossrank.training.trainer import Trainer

    set_seed(int(config.get("seed", 42)))
    model = build_model(config)
    train = load_split(config, config["data"]["train"])
    eval_data = config["data"].get("eval")
    eval_dataset = load_split(config, eval_data) if eval_data else None
    loss = build_loss(config, model)
    if not config.get("mine"):
        validate_datasets(model, loss, train, eval_dataset)  # mined data are checked after mining
    build_args(config, len(train), None)  # bad training values fail here, before the long steps
    evaluator = build_evaluator(config)
    if config.get("mine"):
        from crossrank.mining.config import mine_from_config

        train = mine_from_config(mine_section(config), train)
    training_args = build_args(config, len(train), evaluator)
    trainer = Trainer(model, training_args, train_dataset=train, eval_dataset=eval_dataset,
                      loss=loss, evaluator=evaluator)  # validates the (mined) data before the baseline
    before = evaluator(model) if evaluator else {}
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm():  # log lines (the eval tables) print above the progress bar, not through it
        trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    fusion_note = tune_fusion(config, model, evaluator)
    after = evaluator(model) if evaluator else {}
    save_outputs(model, trainer, out, before, after)
    print(f"\nSaved the trained reranker to {out}")
    if evaluator:
        print(metrics_table(before, after))
    if fusion_note:
        print(fusion_note)
    return 0


def save_outputs(model: Any, trainer: Any, out: Path, before: dict[str, float], after: dict[str, float]) -> None:
    """The model with its card, in one crash-safe step, then ``<out>-metrics.json``."""
    from crossrank.model_card import write_model_card
    from crossrank.storage.atomic import atomic_file_write

    model.save_pretrained(out, add_files=lambda folder: write_model_card(folder, trainer=trainer,
                                                                         evaluator_metrics=after or None))
    text = json.dumps({"before": before, "after": after}, indent=2)
    atomic_file_write(out.parent / f"{out.name}-metrics.json", lambda tmp: tmp.write_text(text))


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
