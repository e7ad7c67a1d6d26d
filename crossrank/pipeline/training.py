"""The ``TrainingArguments`` of a training run: the ``training:`` section plus evaluation-aware defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crossrank.pipeline.schedule import keep_best_arguments, total_steps

if TYPE_CHECKING:
    from crossrank.evaluation.base import Evaluator
    from crossrank.pipeline.config import TrainConfig
    from crossrank.training.args import TrainingArguments

DEFAULTS = {"output_dir": "runs/crossrank", "warmup_steps": 0.1, "logging_steps": 20,
            "disable_tqdm": False}  # a progress bar (steps, rate, time left) even with quiet library logs


def build_training_arguments(config: TrainConfig, train_rows: int, evaluator: Evaluator | None) -> TrainingArguments:
    """``TrainingArguments`` from the (already type-checked) ``training:`` section.

    Defaults: :data:`DEFAULTS`, the config's ``seed``, and — with an evaluator and no ``eval_strategy`` —
    the keep-best schedule (``pipeline.schedule``: evaluate about five times, reload the best).

    Raises:
        ValueError: when ``TrainingArguments`` refuses a combination of values (its first line).
    """
    from crossrank.training.args import TrainingArguments

    given = {**DEFAULTS, "seed": config.seed, "keep_freed_memory": True, **config.training}
    given.pop("resume_from_checkpoint", None)  # passed to Trainer.train (see pipeline.train.resume_target)
    if evaluator is not None and "eval_strategy" not in given:
        steps = total_steps(train_rows, int(given.get("per_device_train_batch_size", 8)),
                            float(given.get("num_train_epochs", 3.0)),
                            int(given.get("gradient_accumulation_steps", 1)), int(given.get("max_steps", -1)))
        given.update(keep_best_arguments(evaluator.primary_metric, steps,
                                         greater_is_better=evaluator.greater_is_better))
    try:
        return TrainingArguments(**given)
    except (TypeError, ValueError) as err:
        raise ValueError(f"training arguments: {str(err).splitlines()[0]}") from err
