"""The training-log parts of the model card: the log table (best checkpoint bold) and the training
curves (loss and the primary metric against the step, as PNGs), plus the small formatters they share.

matplotlib is optional (``pip install crossrank[plots]``). Without it no image is drawn and
``draw_training_curves`` says why, so the card can carry a note instead of a broken link.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOSS_PNG = "training_loss.png"
METRIC_PNG = "training_metric.png"
MAX_LOG_ROWS = 50
LOG_NOISE = ("_runtime", "_samples_per_second", "_steps_per_second")
MISSING_MATPLOTLIB = "matplotlib is not installed; install it with `pip install crossrank[plots]` to draw them."

Series = list[tuple[float, float]]


def number(value: Any) -> str:
    """A number as the card shows it: integers plainly, others with four decimals (or scientific if tiny)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4f}" if abs(value) >= 1e-3 else f"{value:.3e}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table (left-aligned); cells are placed as given."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(":--" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def is_noise(key: str) -> bool:
    """Logged keys that are not results: timings, throughput, step counters and losses."""
    return key.endswith(LOG_NOISE) or key in ("epoch", "step", "eval_loss", "loss")


def matplotlib_available() -> bool:
    """Whether matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def series(log_history: Sequence[Mapping[str, Any]], key: str) -> Series:
    """The ``(step, value)`` points of ``key`` in a Trainer ``log_history``, in logged order."""
    points: Series = []
    for entry in log_history:
        value, step = entry.get(key), entry.get("step")
        if isinstance(value, int | float) and not isinstance(value, bool) and step is not None:
            points.append((float(step), float(value)))
    return points


def _save_plot(path: Path, curves: Mapping[str, Series], ylabel: str, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for label, points in curves.items():
        steps, values = zip(*points, strict=True)
        axes.plot(steps, values, marker="o" if len(points) < 30 else None, markersize=3, label=label)
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png")
    tmp.replace(path)


def draw_training_curves(
    folder: str | Path, log_history: Sequence[Mapping[str, Any]], metric_key: str | None
) -> tuple[dict[str, str], str | None]:
    """Draw the loss curve and the ``metric_key`` curve into ``folder``.

    Args:
        folder: where the PNGs go (the saved model folder).
        log_history: ``trainer.state.log_history``.
        metric_key: the logged key of the primary metric (e.g. ``"eval_dev_ndcg@10"``), or ``None``.

    Returns:
        ``({caption: file name}, None)`` for the images drawn, or ``({}, reason)`` when none could be.
    """
    if not matplotlib_available():
        return {}, MISSING_MATPLOTLIB
    folder = Path(folder)
    images: dict[str, str] = {}
    losses = {name: series(log_history, key) for name, key in (("training", "loss"), ("validation", "eval_loss"))}
    losses = {name: points for name, points in losses.items() if points}
    if losses:
        _save_plot(folder / LOSS_PNG, losses, "loss", "Loss")
        images["Loss against step"] = LOSS_PNG
    metric = series(log_history, metric_key) if metric_key else []
    if metric:
        shown = metric_key.removeprefix("eval_") if metric_key else ""
        _save_plot(folder / METRIC_PNG, {shown: metric}, shown, f"{shown} on the evaluation data")
        images[f"{shown} against step"] = METRIC_PNG
    if not images:
        return {}, "no loss or metric values were logged."
    logger.info("Wrote training curves %s to %s", sorted(images.values()), folder)
    return images, None


# ---------------------------------------------------------------------------------------- log table
def _log_columns(log_history: Sequence[Mapping[str, Any]], metric_keys: Sequence[str]) -> list[str]:
    logged = list(dict.fromkeys(k for e in log_history for k in e if k.startswith("eval_") and not is_noise(k)))
    chosen = [k for k in metric_keys if k in logged] or logged
    has_eval_loss = any("eval_loss" in e for e in log_history)
    return (["eval_loss"] if has_eval_loss else []) + chosen


def _log_rows(log_history: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        if "step" not in entry or "train_runtime" in entry:
            continue
        row = rows.setdefault(int(entry["step"]), {})
        row.update({k: v for k, v in entry.items() if k in ("epoch", "loss") or k.startswith("eval_")})
    return rows


def _keep_rows(steps: list[int], best: int | None) -> list[int]:
    if len(steps) <= MAX_LOG_ROWS:
        return steps
    stride = -(-len(steps) // MAX_LOG_ROWS)
    keep = set(steps[::stride]) | {steps[-1]} | ({best} if best in steps else set())
    return [s for s in steps if s in keep]


def training_log_table(
    log_history: Sequence[Mapping[str, Any]], metric_keys: Sequence[str] = (), best_step: int | None = None,
    best_metric: float | None = None, metric_for_best_model: str | None = None,
) -> str:
    """The markdown training-log table: epoch, step, training loss, validation loss and metrics.

    Args:
        log_history: ``trainer.state.log_history``.
        metric_keys: logged keys to show (``eval_dev_ndcg@10``); all logged ``eval_`` metrics when none match.
        best_step: the best checkpoint's step, whose row is bold.
        best_metric, metric_for_best_model: described under the table.
    """
    rows = _log_rows(log_history)
    if not rows:
        return "_No training logs were recorded._"
    columns = _log_columns(log_history, metric_keys)
    header = ["Epoch", "Step", "Training Loss"] + [
        "Validation Loss" if k == "eval_loss" else k.removeprefix("eval_") for k in columns]
    steps = _keep_rows(sorted(rows), best_step)
    table_rows = []
    for step in steps:
        row = rows[step]
        cells = [f"{row['epoch']:.4g}" if "epoch" in row else "-", str(step),
                 number(row["loss"]) if "loss" in row else "-"]
        cells += [number(row[k]) if k in row else "-" for k in columns]
        table_rows.append([f"**{c}**" for c in cells] if step == best_step else cells)
    parts = [markdown_table(header, table_rows)]
    if len(steps) < len(rows):
        parts.append(f"Showing {len(steps)} of {len(rows)} logged steps.")
    if best_step is not None and best_step in rows:
        metric = f" by `{metric_for_best_model}`" if metric_for_best_model else ""
        value = f" = {number(best_metric)}" if best_metric is not None else ""
        parts.append(f"The bold row is the best checkpoint{metric}{value} (step {best_step}).")
    return "\n\n".join(parts)
