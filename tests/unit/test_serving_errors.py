"""Every error path of the rerank server: status code and TEI-shaped JSON body, through a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
cohere = pytest.importorskip("cohere")
httpx = pytest.importorskip("httpx")

from _serve_helpers import LiveServer, live_server  # noqa: E402

from crossrank.model import CrossEncoder  # noqa: E402
from crossrank.serving import ServerSettings, create_app  # noqa: E402

QUERY = "capital of france"
DOCS = ["paris is the capital", "a cat", "a dog"]
ROUTE_DOCS = {"/v2/rerank": "documents", "/v1/rerank": "documents", "/rerank": "texts"}


@pytest.fixture(scope="module")
def model(_tiny_bert_master: Path) -> CrossEncoder:
    return CrossEncoder(_tiny_bert_master, device="cpu")


@pytest.fixture(scope="module")
def server(model: CrossEncoder) -> Iterator[LiveServer]:
    settings = ServerSettings(max_client_batch_size=4, payload_limit=2000, auto_truncate=False)
    with live_server(create_app(model, settings)) as srv:
        yield srv


def body(route: str, docs: Any = DOCS, **extra: Any) -> dict[str, Any]:
    return {"query": QUERY, ROUTE_DOCS[route]: docs, **extra}


def assert_error(response: Any, status: int, error_type: str, *phrases: str) -> str:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "error_type"} and payload["error_type"] == error_type
    for phrase in phrases:
        assert phrase in payload["error"], payload["error"]
    return payload["error"]


@pytest.mark.parametrize("route", list(ROUTE_DOCS))
def test_malformed_json_is_422(server: LiveServer, route: str) -> None:
    r = httpx.post(server.url + route, content=b'{"query": "q", ', headers={"content-type": "application/json"})
    assert_error(r, 422, "validation", "the body is not valid JSON")


@pytest.mark.parametrize("route", list(ROUTE_DOCS))
def test_wrong_types_and_missing_fields_are_422(server: LiveServer, route: str) -> None:
    field = ROUTE_DOCS[route]
    r = httpx.post(server.url + route, json=body(route, docs=["ok", 7]))
    assert_error(r, 422, "validation", f"{field}.1")
    r = httpx.post(server.url + route, json={"query": 5, field: DOCS})
    assert_error(r, 422, "validation", "query: Input should be a valid string")
    r = httpx.post(server.url + route, json={field: DOCS})
    assert_error(r, 422, "validation", "query: Field required")
    r = httpx.post(server.url + route, json=body(route, top_n="2", raw_scores="yes"))
    if route != "/rerank":
        assert_error(r, 422, "validation", "top_n: Input should be a valid integer")
    else:
        assert_error(r, 422, "validation", "raw_scores: Input should be a valid boolean")


def test_top_n_below_one_is_422(server: LiveServer) -> None:
    r = httpx.post(server.url + "/v2/rerank", json=body("/v2/rerank", top_n=0))
    assert_error(r, 422, "validation", "top_n: Input should be greater than or equal to 1")


def test_v1_object_without_text_is_422(server: LiveServer) -> None:
    r = httpx.post(server.url + "/v1/rerank", json=body("/v1/rerank", docs=[{"title": "paris"}]))
    assert_error(r, 422, "validation", "documents.0.text must be a string; it is missing")


@pytest.mark.parametrize("route", list(ROUTE_DOCS))
def test_empty_documents_is_400(server: LiveServer, route: str) -> None:
    r = httpx.post(server.url + route, json=body(route, docs=[]))
    assert_error(r, 400, "empty", f"`{ROUTE_DOCS[route]}` is empty")


@pytest.mark.parametrize("route", list(ROUTE_DOCS))
def test_too_many_documents_is_413_naming_the_limit(server: LiveServer, route: str) -> None:
    r = httpx.post(server.url + route, json=body(route, docs=["a"] * 5))
    assert_error(r, 413, "validation", "holds 5 documents", "limit of 4 (--max-client-batch-size)")


def test_body_over_payload_limit_is_413(server: LiveServer) -> None:
    big = body("/rerank", docs=["x" * 900, "y" * 900, "z" * 900])
    r = httpx.post(server.url + "/rerank", json=big)
    assert_error(r, 413, "validation", "over this server's payload limit of 2000 bytes (--payload-limit)")


def test_chunked_body_over_payload_limit_is_413(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "q", "texts": ["'
        for _ in range(30):
            yield b"x" * 100
        yield b'"]}'

    r = httpx.post(server.url + "/rerank", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "validation", "over 2000 bytes", "--payload-limit")


def test_tei_truncate_false_over_long_is_413(server: LiveServer) -> None:
    long_doc = " ".join(["cat"] * 200)
    r = httpx.post(server.url + "/rerank", json=body("/rerank", docs=["a dog", long_doc], truncate=False))
    assert_error(r, 413, "validation", "input 1 is longer than the model's 128 tokens", "truncate: true")
    r = httpx.post(server.url + "/rerank", json=body("/rerank", docs=["a dog", long_doc]))  # null: auto_truncate off
    assert r.status_code == 413
    ok = httpx.post(server.url + "/rerank", json=body("/rerank", docs=["a dog", long_doc], truncate=True))
    assert ok.status_code == 200 and ok.headers["x-truncated-pairs"] == "1"


def test_first_stage_scores_without_fusion_is_422(server: LiveServer) -> None:
    r = httpx.post(server.url + "/v2/rerank", json=body("/v2/rerank", first_stage_scores=[1.0, 2.0, 3.0]))
    assert_error(r, 422, "validation", "this model stores no fusion weight")


def test_unknown_route_is_404_json(server: LiveServer) -> None:
    r = httpx.post(server.url + "/v3/rerank", json=body("/rerank"))
    assert_error(r, 404, "not_found", "POST /v3/rerank", "POST /v2/rerank")


def test_api_key_missing_or_wrong_is_401(model: CrossEncoder) -> None:
    with live_server(create_app(model, ServerSettings(api_key="s3cret"))) as srv:
        assert_error(httpx.post(srv.url + "/rerank", json=body("/rerank")), 401, "unauthorized", "API key is missing")
        wrong = httpx.post(srv.url + "/rerank", json=body("/rerank"), headers={"Authorization": "Bearer nope"})
        assert_error(wrong, 401, "unauthorized", "API key is wrong", "Authorization: Bearer <key>")
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert httpx.get(srv.url + "/info").status_code == 401
        assert httpx.get(srv.url + "/health").status_code == 200  # load balancers check without a key
        with pytest.raises(cohere.UnauthorizedError):
            cohere.ClientV2(api_key="nope", base_url=srv.url).rerank(model="m", query=QUERY, documents=DOCS)
        good = cohere.ClientV2(api_key="s3cret", base_url=srv.url).rerank(model="m", query=QUERY, documents=DOCS)
        assert len(good.results) == 3


class _Gate:
    """Holds the inference worker inside ``engine.run`` until released."""

    def __init__(self, engine: Any) -> None:
        self.real = engine.run
        self.entered = threading.Event()
        self.release = threading.Event()

    def run(self, encoded: Any, idx: np.ndarray) -> np.ndarray:
        self.entered.set()
        assert self.release.wait(20)
        return self.real(encoded, idx)


def test_queue_full_is_429_with_retry_after_and_recovers(model: CrossEncoder, monkeypatch: Any) -> None:
    app = create_app(model, ServerSettings(max_concurrent_requests=1, retry_after_s=2))
    engine = app.state.service.batcher.engine
    gate = _Gate(engine)
    monkeypatch.setattr(engine, "run", gate.run)
    with live_server(app) as srv, ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.post, srv.url + "/v2/rerank", json=body("/v2/rerank"), timeout=30)
        try:
            assert gate.entered.wait(20)
            r = httpx.post(srv.url + "/v2/rerank", json=body("/v2/rerank"))
            assert_error(r, 429, "overloaded", "limit of 1 concurrent requests (--max-concurrent-requests)")
            assert r.headers["retry-after"] == "2"
            with pytest.raises(cohere.TooManyRequestsError):
                cohere.ClientV2(api_key="k", base_url=srv.url).rerank(model="m", query=QUERY, documents=DOCS,
                                                                      request_options={"max_retries": 0})
        finally:
            gate.release.set()
        assert first.result().status_code == 200
        assert httpx.post(srv.url + "/v2/rerank", json=body("/v2/rerank")).status_code == 200


def test_inference_failure_is_500_and_the_server_keeps_serving(model: CrossEncoder, monkeypatch: Any) -> None:
    app = create_app(model, ServerSettings())
    engine = app.state.service.batcher.engine
    real = engine.run
    calls = {"n": 0}

    def flaky(encoded: Any, idx: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated device failure")
        return real(encoded, idx)

    monkeypatch.setattr(engine, "run", flaky)
    with live_server(app) as srv:
        r = httpx.post(srv.url + "/rerank", json=body("/rerank"))
        assert_error(r, 500, "backend", "inference failed: RuntimeError: simulated device failure")
        assert httpx.get(srv.url + "/health").status_code == 200
        again = httpx.post(srv.url + "/rerank", json=body("/rerank"))
        assert again.status_code == 200 and len(again.json()) == 3


def test_stopped_worker_is_503(model: CrossEncoder) -> None:
    app = create_app(model, ServerSettings())
    with live_server(app) as srv:
        assert httpx.get(srv.url + "/health").status_code == 200
        app.state.service.stop(5)
        assert_error(httpx.get(srv.url + "/health"), 503, "unhealthy", "draining")
        assert_error(httpx.post(srv.url + "/rerank", json=body("/rerank")), 503, "unhealthy")


def test_an_input_that_exactly_fits_is_not_truncated(server: LiveServer, model: CrossEncoder) -> None:
    room = 128 - 3 - len(model.tokenizer(QUERY, add_special_tokens=False)["input_ids"])
    exact, over = " ".join(["cat"] * room), " ".join(["cat"] * (room + 1))
    ok = httpx.post(server.url + "/rerank", json=body("/rerank", docs=[exact], truncate=False))
    assert ok.status_code == 200 and ok.headers["x-truncated-pairs"] == "0"
    r = httpx.post(server.url + "/rerank", json=body("/rerank", docs=[exact, over], truncate=False))
    assert_error(r, 413, "validation", "input 1 is longer", "(1 of 2 inputs are too long)")
