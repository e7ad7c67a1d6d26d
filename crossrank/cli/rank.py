"""``crossrank rank MODEL --query Q (--documents DOC ... | --documents-file FILE)``: print documents best first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crossrank.cli import CLIError
from crossrank.cli.backend import add_backend_arguments, backend_kwargs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``rank`` sub-command."""
    p = sub.add_parser("rank", help="rank documents for a query with a reranker")
    p.add_argument("model", help="model folder or Hub id")
    p.add_argument("--query", required=True, help="the query text")
    p.add_argument("--documents", nargs="+", default=[], help="documents to rank (or use --documents-file)")
    p.add_argument("--documents-file", help="a text file with one document per line")
    p.add_argument("--top-k", type=int, default=None, help="print only the best K")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=None)
    add_backend_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def read_documents(args: argparse.Namespace) -> list[str]:
    """``--documents`` plus the non-empty lines of ``--documents-file``."""
    docs = list(args.documents)
    if args.documents_file:
        path = Path(args.documents_file)
        if not path.is_file():
            raise CLIError(f"documents file {str(path)!r} does not exist; pass a text file, one document a line.")
        docs += [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not docs:
        raise CLIError("no documents to rank; pass them with --documents DOC ... or --documents-file FILE.")
    return docs


def run(args: argparse.Namespace) -> int:
    """Rank the documents and print them (a table, or JSON)."""
    from crossrank.pipeline.rank import rank_documents

    ranked = rank_documents(args.model, args.query, read_documents(args), top_k=args.top_k,
                            batch_size=args.batch_size, max_length=args.max_length, **backend_kwargs(args))
    if args.json:
        print(json.dumps(ranked, ensure_ascii=False, indent=2))
        return 0
    for place, item in enumerate(ranked, 1):
        print(f"{place:>3}  {item['score']:.4f}  [{item['corpus_id']}] {item['text']}")
    return 0
