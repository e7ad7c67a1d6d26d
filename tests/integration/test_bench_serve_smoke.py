"""bench/bench_serve.py end to end on a small budget: both servers start, load runs, the table is written."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytestmark = pytest.mark.integration
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_serve.py"


def test_bench_serve_quick_writes_the_table(tmp_path: Path, shared_data: Path, minilm_path: Path) -> None:
    import torch

    spec = importlib.util.spec_from_file_location("crossrank_bench_serve", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    try:
        table = module.main(["--quick", "--results-dir", str(tmp_path), "--name", "serve-smoke"])
    finally:
        torch.set_num_threads(threads)
    text = (tmp_path / "serve-smoke.md").read_text()
    assert table in text and "- machine:" in text and "- date:" in text
    assert "| setup | clients | requests | pairs/s | p50 ms | p95 ms | p99 ms | errors | peak server RSS MiB |" in text
    for row in ("| crossrank serve | 2 | 4 |", "| naive server (thread pool) | 2 | 4 |",
                "| offline predict (batch 32) | - | 80 pairs |", "| crossrank serve, soak 2 s | 16 |"):
        assert row in text, row
    assert "- throughput at 2 clients: server / offline predict = **" in text
    assert "- 10-document requests, p95:" in text and "while 60-document requests run" in text
    assert "- soak:" in text and "**0 failed**" in text
    burst = next(line for line in text.splitlines() if line.startswith("- overload: 64 clients, queue limit 8:"))
    answered = int(burst.split(": ", 2)[2].split(" answered 200")[0])
    refused = int(burst.split("answered 200, ")[1].split(" got 429")[0])
    assert answered + refused == 24 and refused > 0 and "(Retry-After: 1)" in burst and "5/5 requests" in burst
    assert "- the server after SIGTERM: ended by the re-raised SIGTERM after draining" in text
