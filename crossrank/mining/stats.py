"""Statistics of a mining run: score summaries for positives, negatives and their differences, how many
candidates each filter removed, and how many rows lacked enough negatives (with advice)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

METRICS: tuple[str, ...] = ("mean", "median", "std", "min", "25%", "50%", "75%", "max")


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Count, mean, lower median, sample std, min, quartiles (linear interpolation) and max of ``values``.

    Empty input gives ``nan`` for every statistic except ``count``; one value gives ``std = nan``.
    """
    x = np.asarray(values, dtype=np.float64)
    out: dict[str, float] = {"count": float(x.size)}
    if x.size == 0:
        return out | {m: math.nan for m in METRICS}
    ordered = np.sort(x)
    out["mean"] = float(x.mean())
    out["median"] = float(ordered[(x.size - 1) // 2])
    out["std"] = float(x.std(ddof=1)) if x.size > 1 else math.nan
    out["min"] = float(ordered[0])
    for q, name in ((0.25, "25%"), (0.5, "50%"), (0.75, "75%")):
        out[name] = float(np.quantile(x, q))
    out["max"] = float(ordered[-1])
    return out


@dataclass
class MiningStats:
    """Everything the mining report prints.

    Attributes:
        positive: summary of (query, positive) scores.
        negative: summary of the emitted negatives' scores.
        difference: summary of positive minus negative score over emitted (positive, negative) pairs.
        skipped: per filter, ``(count, ratio)`` of candidates it removed, with its setting in ``settings``.
        missing: rows (in the output's unit) that could not be filled.
        max_rows: rows the output would have with enough negatives everywhere.
        settings: the filter values, for the report lines.
        advice: parameters worth adjusting when rows are missing.
    """

    positive: dict[str, float]
    negative: dict[str, float]
    difference: dict[str, float]
    skipped: dict[str, tuple[int, float]] = field(default_factory=dict)
    missing: int = 0
    max_rows: int = 0
    settings: dict[str, float | None] = field(default_factory=dict)
    advice: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The report as plain text: a statistics table, then one line per filter and the shortfall."""
        lines = [f"{'Metric':<7}{'Positive':>14}{'Negative':>14}{'Difference':>14}"]
        lines.append(f"{'Count':<7}{int(self.positive['count']):>14,}{int(self.negative['count']):>14,}{'':>14}")
        for metric in METRICS:
            cells = [f"{part[metric]:.4f}" for part in (self.positive, self.negative, self.difference)]
            lines.append(f"{metric.capitalize():<7}" + "".join(f"{c:>14}" for c in cells))
        for name, (count, ratio) in self.skipped.items():
            lines.append(f"{name}={self.settings.get(name)} removed {count:,} candidates ({ratio:.2%}).")
        if self.missing > 0:
            ratio = self.missing / max(self.max_rows, 1)
            lines.append(
                f"{self.missing:,} of {self.max_rows:,} output rows ({ratio:.2%}) lack enough negatives; "
                f"to find more, adjust {', '.join(self.advice)}."
            )
        return "\n".join(lines)


def compute_stats(
    positive_scores: Sequence[float],
    negative_scores: Sequence[float],
    differences: Sequence[float],
    skipped: dict[str, tuple[int, float]],
    rows_out: int,
    max_rows: int,
    settings: dict[str, float | None],
    range_min: int = 0,
) -> MiningStats:
    """Assemble :class:`MiningStats`; advice lists ``range_max`` plus every active window or filter setting."""
    advice = ["range_max"] + (["range_min"] if range_min > 0 else [])
    advice += [name for name in ("absolute_margin", "relative_margin", "max_score") if settings.get(name) is not None]
    return MiningStats(
        positive=summarize(positive_scores),
        negative=summarize(negative_scores),
        difference=summarize(differences),
        skipped=dict(skipped),
        missing=max(max_rows - rows_out, 0),
        max_rows=max_rows,
        settings=dict(settings),
        advice=advice,
    )
