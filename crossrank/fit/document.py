"""A small document model for the fit report: headings, paragraphs, tables and images, rendered twice.

Markdown (``report.md``, images as PNG files beside it) and a self-contained HTML page (``report.html``,
images inline as base64 data URIs, no external assets).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossrank.fit.plots import data_uri


@dataclass
class Document:
    """Blocks in order: ``("h", text)``, ``("p", text)``, ``("table", header, rows)``,
    ``("img", name, png, caption)``."""

    title: str
    blocks: list[tuple[Any, ...]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("h", text))

    def para(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(("table", header, rows))

    def image(self, name: str, png: bytes, caption: str) -> None:
        self.blocks.append(("img", name, png, caption))


def cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def to_markdown(doc: Document, folder: Path) -> str:
    """The Markdown text; images are written into ``folder`` and linked."""
    lines = [f"# {doc.title}", ""]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            lines += [f"## {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            (folder / block[1]).write_bytes(block[2])
            lines += [f"![{block[3]}]({block[1]})", "", f"*{block[3]}*", ""]
    return "\n".join(lines)


def to_html(doc: Document) -> str:
    """A self-contained HTML page (inline CSS, images as data URIs)."""
    esc = html.escape
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>", f"<title>{esc(doc.title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .6em;"
             "text-align:right}td:first-child,th:first-child{text-align:left}code{background:#f3f3f3}</style>",
             "</head><body>", f"<h1>{esc(doc.title)}</h1>"]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            parts.append(f"<h2>{esc(block[1])}</h2>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{esc(h)}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{_inline(cell(v))}</td>" for v in row) + "</tr>" for row in block[2])
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        elif kind == "img":
            parts.append(f"<figure><img alt='{esc(block[3])}' src='{data_uri(block[2])}'>"
                         f"<figcaption>{esc(block[3])}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _inline(text: str) -> str:
    """Escape, then render `code` spans and **bold** (the only inline Markdown the report uses)."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
