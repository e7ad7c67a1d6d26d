"""``--backend torch|onnx [--file-name F] [--threads N]``: how the scoring commands load a reranker."""

from __future__ import annotations

import argparse
from typing import Any


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("torch", "onnx"), default="torch",
                        help="torch: the PyTorch weights; onnx: the folder's ONNX export (see crossrank export)")
    parser.add_argument("--file-name", help="ONNX file inside the folder, e.g. onnx/model_quint8_avx2.onnx")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its own)")


def backend_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """CrossEncoder keyword arguments for the chosen backend (ONNX options are refused without --backend onnx)."""
    if args.backend == "torch":
        if args.file_name or args.threads:
            raise ValueError("--file-name and --threads choose the ONNX file and its threads; add --backend onnx.")
        return {}
    return {"backend": "onnx", "file_name": args.file_name, "threads": args.threads}
