"""Wall-clock bounds for training: a hard stop, and a learning-rate schedule that fits the budget.

:class:`TimeBudget` stops training once ``seconds`` are spent. :class:`BudgetSchedule` also lays the
learning rate out over the budget: progress is the larger of the step fraction and the time fraction, the
rate ramps up linearly over the first ``warmup_ratio`` of progress and decays linearly to 0 at the end, and
training stops when progress reaches 1. So a run that the budget cuts short still ends with a decayed rate
(a step-based schedule cut short ends at a high rate). Without a budget both are step-based and
deterministic.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from transformers import TrainerCallback

logger = logging.getLogger(__name__)


class TimeBudget(TrainerCallback):
    """Stop after ``seconds`` of training (checked after each optimiser step); ``None`` never stops.

    Attributes:
        stopped_at: the global step where the budget ran out, or None when training finished on its own.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.stopped_at: int | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.monotonic()

    def elapsed_fraction(self) -> float:
        return 0.0 if self.seconds is None else (time.monotonic() - self.started) / self.seconds

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.seconds is None or self.elapsed_fraction() < 1.0:
            return
        self._stop(state, control)

    def _stop(self, state: Any, control: Any) -> None:
        if self.stopped_at is None:
            self.stopped_at = int(state.global_step)
            logger.warning("the time budget of %.0f s ran out at step %d of %d; stopping.",
                           self.seconds, state.global_step, state.max_steps)
        control.should_training_stop = True


class BudgetSchedule(TimeBudget):
    """Linear warm-up and decay over ``max(step / max_steps, elapsed / seconds)``; stops at 1.

    Use with ``lr_scheduler_type="constant"``: the rate of every parameter group is set before each
    optimiser step to its base rate times the schedule factor.
    """

    def __init__(self, seconds: float | None, warmup_ratio: float) -> None:
        super().__init__(seconds)
        self.warmup_ratio = warmup_ratio
        self.base_rates: list[float] = []

    def progress(self, state: Any) -> float:
        return max(state.global_step / max(state.max_steps, 1), self.elapsed_fraction())

    def factor(self, progress: float) -> float:
        if progress < self.warmup_ratio:
            return (progress + 1e-3) / self.warmup_ratio
        return max(0.0, 1.0 - progress) / max(1e-9, 1.0 - self.warmup_ratio)

    def on_step_begin(self, args: Any, state: Any, control: Any, optimizer: Any = None, **kwargs: Any) -> None:
        if optimizer is None:
            return
        if not self.base_rates:
            self.base_rates = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        scale = self.factor(self.progress(state))
        for group, base in zip(optimizer.param_groups, self.base_rates):
            group["lr"] = base * scale

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.seconds is not None and self.elapsed_fraction() >= 1.0:
            self._stop(state, control)
