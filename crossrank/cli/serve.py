"""``crossrank serve MODEL [--backend torch|onnx] [--port 8080] ...``: a rerank server for Cohere/Jina/TEI clients."""

from __future__ import annotations

import argparse

from crossrank.cli import CLIError
from crossrank.serving.settings import ServerSettings


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = ServerSettings()
    p = sub.add_parser("serve", help="serve a reranker over HTTP (Cohere /v1 /v2 rerank, TEI /rerank)",
                       description="Serve a reranker over HTTP with dynamic batching. Routes: POST /v2/rerank, "
                                   "POST /v1/rerank, POST /rerank, GET /health, GET /info, GET /metrics.")
    p.add_argument("model", help="model folder, package:NAME or Hub id")
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch")
    p.add_argument("--file-name", default=None, help="model file inside the folder (e.g. an ONNX int8 file)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    p.add_argument("--max-length", type=int, default=None, help="tokens per query-document pair")
    p.add_argument("--host", default=d.host, help=f"address to bind (default {d.host}: this machine only)")
    p.add_argument("--port", type=int, default=d.port)
    p.add_argument("--api-key", default=None, help="require 'Authorization: Bearer KEY' (all routes but /health)")
    p.add_argument("--max-batch-tokens", type=int, default=d.max_batch_tokens,
                   help="padded tokens in one forward pass")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="pairs in one forward pass")
    p.add_argument("--chunk-size", type=int, default=d.chunk_size,
                   help="pairs one request contributes to each scheduling round (large requests interleave)")
    p.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms, help="how long an idle worker waits to fill")
    p.add_argument("--batch-overhead-tokens", type=int, default=d.batch_overhead_tokens,
                   help="cost of one more forward pass in padded tokens; batches are cut for the least padding "
                        "plus this (default: the backend's own, torch 160, onnx 16; 0: fixed batch-size cuts)")
    p.add_argument("--max-client-batch-size", type=int, default=d.max_client_batch_size,
                   help="most documents in one request (413 above)")
    p.add_argument("--max-concurrent-requests", type=int, default=d.max_concurrent_requests,
                   help="requests queued or running at once (429 above)")
    p.add_argument("--payload-limit", type=int, default=d.payload_limit, help="largest body in bytes (413 above)")
    p.add_argument("--max-tokens-per-doc", type=int, default=None, help="default token cap per document")
    p.add_argument("--no-auto-truncate", action="store_true",
                   help="TEI requests without 'truncate' get a 413 for over-long inputs instead of a cut")
    p.add_argument("--drain-timeout", type=float, default=d.drain_timeout_s,
                   help="seconds in-flight requests may take to finish after SIGTERM")
    p.add_argument("--workers", type=int, default=d.workers, help="server processes (each loads the model)")
    p.add_argument("--model-id", default=None, help="name reported in /info and responses")
    p.add_argument("--access-log", action="store_true", help="log every request")


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    try:
        return ServerSettings(
            host=args.host, port=args.port, api_key=args.api_key, max_batch_tokens=args.max_batch_tokens,
            batch_size=args.batch_size, chunk_size=args.chunk_size, max_wait_ms=args.max_wait_ms,
            batch_overhead_tokens=args.batch_overhead_tokens, max_client_batch_size=args.max_client_batch_size,
            max_concurrent_requests=args.max_concurrent_requests,
            payload_limit=args.payload_limit, max_tokens_per_doc=args.max_tokens_per_doc,
            auto_truncate=not args.no_auto_truncate, drain_timeout_s=args.drain_timeout, workers=args.workers,
            model_id=args.model_id)
    except ValueError as err:
        raise CLIError(f"{err} (see crossrank serve --help)") from err


def run(args: argparse.Namespace) -> int:
    try:
        from crossrank.serving.server import ModelSpec, serve
    except ModuleNotFoundError as err:
        raise CLIError(f"crossrank serve needs {err.name}; install the serve extra: pip install crossrank[serve]") \
            from err
    settings = settings_from_args(args)
    spec = ModelSpec(args.model, backend=args.backend, file_name=args.file_name, device=args.device,
                     max_length=args.max_length)
    serve(spec, settings, access_log=args.access_log)
    return 0
