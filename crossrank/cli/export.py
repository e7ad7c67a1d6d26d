"""``crossrank export MODEL --out DIR [--quantize …] [--check-data FILE] [--force]``: ONNX (+ int8), checked."""

from __future__ import annotations

import argparse

from crossrank.export.targets import QUANTIZE_CHOICES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a reranker (or embedder) to ONNX, optionally int8, behind a parity gate")
    p.add_argument("model", help="model folder (or package:NAME)")
    p.add_argument("--out", required=True, help="output folder (written atomically): the model folder + onnx/")
    p.add_argument("--quantize", choices=QUANTIZE_CHOICES, default="none",
                   help="also write an int8 file for this CPU family (auto: this machine's); default none")
    p.add_argument("--check-data", help="pairs for the parity gate (JSONL/CSV/Parquet; labelled lists add MAP)")
    p.add_argument("--force", action="store_true", help="keep files the parity gate refuses")
    p.add_argument("--kind", choices=("auto", "reranker", "embedder"), default="auto",
                   help="what the folder holds (auto: from config.json / modules.json)")
    p.add_argument("--no-fuse", action="store_true", help="keep a graph of standard ONNX ops (no ORT fusions)")
    p.add_argument("--full-last-layer", action="store_true",
                   help="trace a BERT reranker's last layer for every token (default: the first token only)")


def run(args: argparse.Namespace) -> int:
    from crossrank.export import export_onnx

    result = export_onnx(args.model, args.out, quantize=args.quantize, check_data=args.check_data,
                         force=args.force, kind=args.kind, fuse=not args.no_fuse,
                         first_token=not args.full_last_layer)
    for report in result.reports:
        print(report.summary())
    print(f"wrote {result.folder} ({result.kind}): {', '.join(result.files)}")
    return 0
