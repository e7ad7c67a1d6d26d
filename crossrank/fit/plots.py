"""The report's plots as PNG bytes (matplotlib's object API with the Agg canvas: no global backend change).

Three plots: dev NDCG@10 over training (with the retriever's dev NDCG@10 as a line), per-query NDCG@10 gain
over the retriever on test, and the reranker's score distributions of relevant vs other documents.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure() -> tuple[object, object]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(1, 1, 1)


def _png(figure: object) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(buffer, format="png")  # type: ignore[attr-defined]
    return buffer.getvalue()


def dev_curve(curve: Sequence[Sequence[float]], baseline: float, warm_steps: int | None = None) -> bytes:
    """Dev NDCG@10 per training step (step 0 = the start model), the retriever's as a dashed line."""
    figure, ax = _figure()
    steps = [p[0] for p in curve]
    ax.plot(steps, [p[1] for p in curve], marker="o", label="reranker (dev)")  # type: ignore[attr-defined]
    ax.axhline(baseline, linestyle="--", color="grey", label="first stage (dev)")  # type: ignore[attr-defined]
    ax.set_xlabel("training step" + (" (0 = after the warm start)" if warm_steps else ""))  # type: ignore
    ax.set_ylabel("dev NDCG@10")  # type: ignore[attr-defined]
    ax.legend(loc="lower right")  # type: ignore[attr-defined]
    return _png(figure)


def per_query_gain(gains: Mapping[str, float], label: str) -> bytes:
    """Sorted per-query NDCG@10 differences to the retriever on test."""
    figure, ax = _figure()
    values = np.sort(np.asarray(list(gains.values()) or [0.0]))
    colors = ["tab:green" if v > 0 else "tab:red" if v < 0 else "grey" for v in values]
    ax.bar(np.arange(values.size), values, color=colors, width=1.0)  # type: ignore[attr-defined]
    better, worse = int((values > 0).sum()), int((values < 0).sum())
    ax.set_title(f"{label}: {better} queries better, {worse} worse, {values.size - better - worse} equal")  # type: ignore
    ax.set_xlabel("test queries, sorted")  # type: ignore[attr-defined]
    ax.set_ylabel("NDCG@10 gain over the retriever")  # type: ignore[attr-defined]
    return _png(figure)


def score_distributions(relevant: Sequence[float], other: Sequence[float]) -> bytes:
    """Histograms (densities) of the reranker's logits for relevant and other candidates on test."""
    figure, ax = _figure()
    values = [*relevant, *other] or [0.0]
    bins = np.linspace(min(values), max(values) + 1e-9, 41)
    ax.hist(other, bins=bins, density=True, alpha=0.6, label=f"other ({len(other)})")  # type: ignore
    ax.hist(relevant, bins=bins, density=True, alpha=0.6, label=f"relevant ({len(relevant)})")  # type: ignore
    ax.set_xlabel("reranker logit")  # type: ignore[attr-defined]
    ax.set_ylabel("density")  # type: ignore[attr-defined]
    ax.legend()  # type: ignore[attr-defined]
    return _png(figure)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
