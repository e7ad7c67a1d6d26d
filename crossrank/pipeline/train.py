"""A whole training run from a :class:`~crossrank.pipeline.config.TrainConfig`: what ``crossrank train`` does.

Check the outputs and lock ``output_dir``; build the model, data, loss, evaluator and arguments and validate
them all (mining, the first stage and the baseline come after); evaluate before, train (keeping the best
checkpoint), tune the first-stage fusion, evaluate after, save the model with its model card and write
``<output>-metrics.json``. Errors are ordinary exceptions.
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


def mined(config: TrainConfig, train: Dataset) -> Dataset:
    """The training rows mined as the ``mine:`` section says (paths resolved); unchanged without one."""
    if config.mine is None:
        return train
    from crossrank.pipeline.mine import run_mining

    sources = config.mine.sources
    assert sources.model is not None
    corpus = config.path(sources.corpus) if isinstance(sources.corpus, str) else sources.corpus
    resolved = replace(sources, model=config.path(sources.model), corpus=corpus)
    return run_mining(replace(config.mine, sources=resolved), train)


def output_paths(config: TrainConfig) -> tuple[Path, Path]:
    """(output_dir, final model folder) as the run will use them."""
    from crossrank.pipeline.training import DEFAULTS

    output_dir = Path(config.training.get("output_dir") or DEFAULTS["output_dir"])
    return output_dir, Path(config.output or output_dir / "final")


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

    Before anything loads, the outputs are checked (``output_dir`` writable, the model output new, empty or
    a crossrank folder, and not ``output_dir`` itself) and ``output_dir`` is locked for this run.

    Args:
        config: the checked configuration.
        resume: a checkpoint folder, ``"true"``/``True`` for the last complete one, or None for
            ``training.resume_from_checkpoint``.
    """
    from crossrank.storage.lock import main_process_lock
    from crossrank.storage.preflight import check_train_outputs

    output_dir, out = output_paths(config)
    check_train_outputs(output_dir, out)  # a bad output must not cost a training run
    with main_process_lock(output_dir):  # one run per output_dir; a second one fails fast naming this one
        return _run(config, resume, out)


def _run(config: TrainConfig, resume: str | bool | None, out: Path) -> TrainResult:
    """Build everything, validate every input before the first long step, train, save."""
    from tqdm.contrib.logging import logging_redirect_tqdm
    from transformers import set_seed

    from crossrank.pipeline.data import load_split
    from crossrank.pipeline.evaluator import build_evaluator
    from crossrank.pipeline.loss import build_loss
    from crossrank.pipeline.model import build_model
    from crossrank.pipeline.training import build_training_arguments
    from crossrank.pipeline.warm import begin_warm_start
    from crossrank.training.multi import validate_datasets
    from crossrank.training.trainer import Trainer

    set_seed(config.seed)
    model = build_model(config)
    train_rows = load_split(config, config.data.train)
    eval_rows = None if config.data.eval is None else load_split(config, config.data.eval)
    loss = build_loss(config.loss, model)
    if config.mine is None:
        validate_datasets(model, loss, train_rows, eval_rows)  # mined rows are checked after mining
    build_training_arguments(config, len(train_rows), None)  # bad training values fail before long work
    evaluator = build_evaluator(config, config.evaluator)  # its columns are checked before any scoring
    train_rows = mined(config, train_rows)
    args = build_training_arguments(config, len(train_rows), evaluator)
    warm = begin_warm_start(config.warm_start, config.path, model, train_rows, evaluator)
    trainer = Trainer(model, args, train_dataset=train_rows, eval_dataset=eval_rows, loss=loss, evaluator=evaluator)
    # every input was validated above; after a warm start its report already holds the dev metrics
    before = (warm.report.student_metrics if warm is not None else None) or (evaluator(model) if evaluator else {})
    with logging_redirect_tqdm():  # log lines (the eval tables) print above the progress bar
        trainer.train(resume_from_checkpoint=resume_target(resume, config))
    if warm is not None:
        warm.keep_if_better(model, trainer.state.best_metric, evaluator, before)
    fusion_note = tune_fusion(config, model, evaluator)
    after = evaluator(model) if evaluator else {}
    trainer.final_metrics = after or None
    model.save_pretrained(out)
    metrics_file = out.parent / f"{out.name}-metrics.json"
    stages = {} if warm is None else warm.stages()
    text = json.dumps({"before": before, "after": after, **stages}, indent=2)
    atomic_file_write(metrics_file, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return TrainResult(out, metrics_file, before, after, fusion_note,
                       "" if warm is None else warm.summary(after, evaluator))

