"""A whole training run from a :class:`~crossrank.pipeline.config.TrainConfig`: what ``crossrank train`` does.

Build the model, data (mined when a ``mine:`` section is given), loss, evaluator and arguments; evaluate
before, train (keeping the best checkpoint), tune the first-stage fusion, evaluate after, save the model
with its model card and write ``<output>-metrics.json``. Errors are ordinary exceptions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from crossrank.storage.atomic import atomic_file_write

if TYPE_CHECKING:
    from datasets import Dataset

    from crossrank.evaluation import RerankingEvaluator
    from crossrank.model import CrossEncoder
    from crossrank.pipeline.config import TrainConfig

logger = logging.getLogger("crossrank.train")


@dataclass
class TrainResult:
    """What a run produced: the saved folder, the metrics file, evaluator metrics before and after."""

    output: Path
    metrics_file: Path
    before: dict[str, float]
    after: dict[str, float]
    fusion_note: str = ""
    warm_note: str = ""


def resume_target(flag: str | bool | None, config: TrainConfig) -> str | bool | None:
    """``resume_from_checkpoint`` for ``Trainer.train``: the flag, else ``training.resume_from_checkpoint``;
    ``"true"`` means the latest checkpoint in ``output_dir``."""
    value = flag if flag is not None else config.training.get("resume_from_checkpoint")
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true" or None
    return value


def training_data(config: TrainConfig) -> Dataset:
    """The training rows, mined first when the config has a ``mine:`` section (paths resolved)."""
    from crossrank.pipeline.data import load_split

    train = load_split(config, config.data.train)
    if config.mine is None:
        return train
    from crossrank.pipeline.mine import run_mining

    sources = config.mine.sources
    assert sources.model is not None
    corpus = config.path(sources.corpus) if isinstance(sources.corpus, str) else sources.corpus
    resolved = replace(sources, model=config.path(sources.model), corpus=corpus)
    return run_mining(replace(config.mine, sources=resolved), train)


def tune_fusion(config: TrainConfig, model: CrossEncoder, evaluator: RerankingEvaluator | None) -> str:
    """Tune and store the first-stage fusion weight on the evaluator's samples; returns a note to print.

    On by default when the evaluator has a ``first_stage``; ``fusion: false`` turns it off.
    """
    spec = config.fusion
    if spec is None or evaluator is None or not evaluator.has_first_stage:
        return ""
    try:
        fusion, curve = evaluator.tune_fusion(model, metric=spec.metric, weights=spec.weights,
                                              normalize=spec.normalize, rule=spec.rule)
    except ValueError as err:
        raise ValueError(f"fusion: {err}") from err
    model.fusion = fusion
    alone = f" vs {curve[0.0]:.4f} for the reranker alone" if 0.0 in curve else ""
    best = max(curve, key=lambda w: curve[w])
    return (f"First-stage fusion: weight {fusion.weight:.2f} on the first-stage score ({fusion.normalize}), "
            f"tuned on {fusion.tuned_on}: {curve[fusion.weight]:.4f}{alone}; best single weight "
            f"{best:.2f} ({curve[best]:.4f}). "
            "The fused_* rows above are measured on the samples the weight was tuned on.")


def train(config: TrainConfig, resume: str | bool | None = None) -> TrainResult:
    """Run the configured training and save the result (see the module docstring).

    Args:
        config: the checked configuration.
        resume: a checkpoint folder, ``"true"``/``True`` for the latest, or None for
            ``training.resume_from_checkpoint``.
    """
    from transformers import set_seed

    from crossrank.pipeline.evaluator import build_evaluator
    from crossrank.pipeline.loss import build_loss
    from crossrank.pipeline.model import build_model
    from crossrank.pipeline.training import build_training_arguments
    from crossrank.pipeline.warm import begin_warm_start
    from crossrank.training.trainer import Trainer

    set_seed(config.seed)
    model = build_model(config)
    train_rows = training_data(config)
    eval_rows = None
    if config.data.eval is not None:
        from crossrank.pipeline.data import load_split

        eval_rows = load_split(config, config.data.eval)
    loss = build_loss(config.loss, model)
    evaluator = build_evaluator(config, config.evaluator)
    args = build_training_arguments(config, len(train_rows), evaluator)
    warm = begin_warm_start(config.warm_start, config.path, model, train_rows, evaluator)
    before = (warm.report.student_metrics if warm is not None else None) or (evaluator(model) if evaluator else {})
    trainer = Trainer(model, args, train_dataset=train_rows, eval_dataset=eval_rows, loss=loss, evaluator=evaluator)
    trainer.train(resume_from_checkpoint=resume_target(resume, config))
    if warm is not None:
        warm.keep_if_better(model, trainer.state.best_metric, evaluator, before)
    fusion_note = tune_fusion(config, model, evaluator)
    after = evaluator(model) if evaluator else {}
    trainer.final_metrics = after or None
    out = Path(config.output or Path(args.output_dir) / "final")
    model.save_pretrained(out)
    metrics_file = out.parent / f"{out.name}-metrics.json"
    stages = {} if warm is None else warm.stages()
    text = json.dumps({"before": before, "after": after, **stages}, indent=2)
    atomic_file_write(metrics_file, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return TrainResult(out, metrics_file, before, after, fusion_note,
                       "" if warm is None else warm.summary(after, evaluator))

