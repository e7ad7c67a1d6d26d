"""The run's clock: seconds spent so far (finished stages, cached ones included) against the time budget."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Clock:
    """Stage times of this run, and the budget they are measured against.

    Cached stages count with the seconds they took when they ran, so a resumed run sees the time an
    uninterrupted one would have spent.
    """

    budget: float | None
    seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    _stage_start: float | None = None

    def start(self) -> None:
        self._stage_start = time.monotonic()

    def stop(self, name: str, seconds: float | None = None, cached: bool = False) -> float:
        spent = seconds if seconds is not None else time.monotonic() - (self._stage_start or time.monotonic())
        self.seconds[name], self.cached[name] = spent, cached
        self._stage_start = None
        return spent

    def elapsed(self) -> float:
        """Seconds of the finished stages plus the running one."""
        running = time.monotonic() - self._stage_start if self._stage_start is not None else 0.0
        return sum(self.seconds.values()) + running

    def deadline(self, reserve: float) -> float | None:
        """``time.monotonic()`` value by which the running stage must end to leave ``reserve`` seconds."""
        if self.budget is None:
            return None
        return time.monotonic() + self.budget - self.elapsed() - reserve

    def total(self) -> float:
        return sum(self.seconds.values())
