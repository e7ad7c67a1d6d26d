"""Readable metric tables for logs and the command line."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render ``rows`` under ``headers`` as an aligned plain-text table.

    Floats are shown with 4 decimals; the first column is left-aligned, the others right-aligned.

    Args:
        headers: Column titles.
        rows: One sequence of cells per row, as long as ``headers``.

    Returns:
        The table as one string (no trailing newline).
    """
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(f"every row needs {len(headers)} cells; got {len(row)}: {row}")
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), rule, *(line(row) for row in cells)])


def metrics_table(metrics: dict[str, float]) -> str:
    """A two-column ``metric | value`` table of a results dictionary."""
    return format_table(["metric", "value"], [[key, value] for key, value in metrics.items()])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
