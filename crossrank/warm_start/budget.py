"""A trainer callback that stops training once a wall-clock budget is spent."""

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

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.seconds is None or time.monotonic() - self.started < self.seconds:
            return
        if self.stopped_at is None:
            self.stopped_at = int(state.global_step)
            logger.warning("warm start: the time budget of %.0f s ran out at step %d of %d; stopping.",
                           self.seconds, state.global_step, state.max_steps)
        control.should_training_stop = True
