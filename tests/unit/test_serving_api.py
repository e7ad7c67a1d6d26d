"""The rerank server driven by real clients over loopback: the cohere SDK (v1, v2), httpx for TEI's shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
cohere = pytest.importorskip("cohere")
httpx = pytest.importorskip("httpx")

from _serve_helpers import LiveServer, live_server  # noqa: E402

from crossrank.inference.fusion import Fusion  # noqa: E402
from crossrank.model import CrossEncoder  # noqa: E402
from crossrank.serving import ServerSettings, create_app  # noqa: E402

QUERY = "what is the capital of france"
DOCS = ["paris is the capital of france", "the cat sat on the mat", "a river in the city",
        "france is a country", "music and film"]


@pytest.fixture(scope="module")
def model(_tiny_bert_master: Path) -> CrossEncoder:
    return CrossEncoder(_tiny_bert_master, device="cpu")


@pytest.fixture(scope="module")
def server(model: CrossEncoder) -> Iterator[LiveServer]:
    with live_server(create_app(model, ServerSettings(model_id="tiny-reranker"))) as srv:
        yield srv


def expected(model: CrossEncoder, docs: list[str] = DOCS) -> np.ndarray:
    return np.asarray(model.predict([(QUERY, d) for d in docs]), dtype=np.float64)


def test_cohere_v2_client_ranks_like_predict(server: LiveServer, model: CrossEncoder) -> None:
    client = cohere.ClientV2(api_key="dummy", base_url=server.url)
    response = client.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=3)
    want = expected(model)
    order = np.argsort(-want, kind="stable")[:3]
    assert [r.index for r in response.results] == order.tolist()
    np.testing.assert_allclose([r.relevance_score for r in response.results], want[order], rtol=1e-5)
    assert response.meta.api_version.version == "2"
    assert response.meta.billed_units.search_units == 1
    assert response.id and response.meta.warnings is None


def test_cohere_v1_client_with_objects_and_return_documents(server: LiveServer, model: CrossEncoder) -> None:
    client = cohere.Client(api_key="dummy", base_url=server.url)
    docs = [{"text": d, "source": f"s{i}"} for i, d in enumerate(DOCS)]
    response = client.rerank(query=QUERY, documents=docs, return_documents=True, model="rerank-english-v3.0")
    want = expected(model)
    assert [r.index for r in response.results] == np.argsort(-want, kind="stable").tolist()
    first = response.results[0]
    assert first.document.text == DOCS[first.index]
    assert first.document.source == f"s{first.index}"  # other fields come back as sent
    np.testing.assert_allclose(first.relevance_score, want.max(), rtol=1e-5)
    assert response.meta.api_version.version == "1"
    plain = client.rerank(query=QUERY, documents=DOCS)
    assert all(r.document is None for r in plain.results)


def test_v1_rank_fields_build_the_scored_text(server: LiveServer, model: CrossEncoder) -> None:
    docs = [{"title": "paris", "text": "the capital of france"}, {"title": "cats", "text": "the cat sat"}]
    body = {"query": QUERY, "documents": docs, "rank_fields": ["title", "text"]}
    got = httpx.post(f"{server.url}/v1/rerank", json=body).json()
    texts = ["title: paris\ntext: the capital of france", "title: cats\ntext: the cat sat"]
    want = expected(model, texts)
    assert {r["index"]: r["relevance_score"] for r in got["results"]} == pytest.approx(dict(enumerate(want)))
    assert got["usage"]["total_tokens"] == got["meta"]["tokens"]["input_tokens"] > 0
    assert got["model"] == "tiny-reranker"


def test_tei_rerank_lists_every_input_sorted(server: LiveServer, model: CrossEncoder) -> None:
    r = httpx.post(f"{server.url}/rerank", json={"query": QUERY, "texts": DOCS, "return_text": True})
    assert r.status_code == 200 and r.headers["x-truncated-pairs"] == "0"
    ranks = r.json()
    want = expected(model)
    assert sorted(x["index"] for x in ranks) == list(range(len(DOCS)))
    assert [x["index"] for x in ranks] == np.argsort(-want, kind="stable").tolist()
    assert [x["text"] for x in ranks] == [DOCS[x["index"]] for x in ranks]
    np.testing.assert_allclose([x["score"] for x in ranks], np.sort(want)[::-1], rtol=1e-5)


def test_tei_raw_scores_are_logits(server: LiveServer, model: CrossEncoder) -> None:
    from torch import nn

    ranks = httpx.post(f"{server.url}/rerank", json={"query": QUERY, "texts": DOCS, "raw_scores": True}).json()
    logits = np.asarray(model.predict([(QUERY, d) for d in DOCS], activation_fn=nn.Identity()))
    assert "text" not in ranks[0]
    np.testing.assert_allclose([x["score"] for x in ranks], np.sort(logits)[::-1], rtol=1e-5, atol=1e-6)


def test_explicit_nulls_and_unused_fields_are_accepted(server: LiveServer) -> None:
    v2 = {"model": None, "query": QUERY, "documents": DOCS, "top_n": None, "max_tokens_per_doc": None,
          "priority": 3, "relevant_spans": None}
    assert httpx.post(f"{server.url}/v2/rerank", json=v2).status_code == 200
    v1 = {"model": "jina-reranker-v2", "query": QUERY, "documents": DOCS, "top_n": 2, "return_documents": None,
          "rank_fields": None, "max_chunks_per_doc": 4}
    got = httpx.post(f"{server.url}/v1/rerank", json=v1)
    assert got.status_code == 200 and len(got.json()["results"]) == 2
    tei = {"query": QUERY, "texts": DOCS, "truncate": None, "truncation_direction": "Right", "raw_scores": None,
           "return_text": None}
    assert httpx.post(f"{server.url}/rerank", json=tei).status_code == 200


def test_max_tokens_per_doc_cuts_and_reports(server: LiveServer, model: CrossEncoder) -> None:
    long_doc = "paris is the capital of france and the largest city of the country"
    r = httpx.post(f"{server.url}/v2/rerank", json={"query": QUERY, "documents": [long_doc, "a dog"],
                                                    "max_tokens_per_doc": 4})
    assert r.status_code == 200 and r.headers["x-truncated-pairs"] == "1"
    body = r.json()
    assert body["meta"]["warnings"] == ["1 of 2 documents were truncated to fit the token limits "
                                        "(max_tokens_per_doc, or 128 tokens per query-document pair)."]
    scores = {x["index"]: x["relevance_score"] for x in body["results"]}
    np.testing.assert_allclose(scores[0], expected(model, ["paris is the capital"])[0], rtol=1e-5)


def test_tei_left_truncation_keeps_the_end(model: CrossEncoder) -> None:
    from torch import nn

    words = "cat dog animal plant tree food apple computer science physics".split() * 20 + ["paris", "france"]
    doc = " ".join(words)
    with live_server(create_app(model, ServerSettings())) as srv:
        right = httpx.post(f"{srv.url}/rerank", json={"query": QUERY, "texts": [doc], "raw_scores": True})
        left = httpx.post(f"{srv.url}/rerank", json={"query": QUERY, "texts": [doc], "raw_scores": True,
                                                     "truncation_direction": "Left"})
    assert right.headers["x-truncated-pairs"] == left.headers["x-truncated-pairs"] == "1"
    room = 128 - 3 - len(model.tokenizer(QUERY, add_special_tokens=False)["input_ids"])
    kept_end = " ".join(words[-room:])
    kept_start = " ".join(words[:room])
    identity = nn.Identity()
    assert left.json()[0]["score"] == pytest.approx(float(model.predict((QUERY, kept_end), activation_fn=identity)),
                                                    rel=1e-5, abs=1e-6)
    assert right.json()[0]["score"] == pytest.approx(
        float(model.predict((QUERY, kept_start), activation_fn=identity)), rel=1e-5, abs=1e-6)


def test_first_stage_scores_use_the_stored_fusion(_tiny_bert_master: Path, tmp_path: Path) -> None:
    fused_model = CrossEncoder(_tiny_bert_master, device="cpu")
    fused_model.fusion = Fusion(0.5, "zscore")
    first_stage = [3.0, 1.0, 2.0, 0.5, 0.0]
    with live_server(create_app(fused_model)) as srv:
        got = httpx.post(f"{srv.url}/v2/rerank", json={"query": QUERY, "documents": DOCS,
                                                       "first_stage_scores": first_stage}).json()
        raw = httpx.post(f"{srv.url}/rerank", json={"query": QUERY, "texts": DOCS, "raw_scores": True}).json()
    logits = np.array([x["score"] for x in sorted(raw, key=lambda x: x["index"])])
    # the tiny random model's logits differ by ~1e-6, which z-scoring magnifies, so the check uses the
    # server's own logits rather than a second, differently batched scoring pass
    want = Fusion(0.5, "zscore").apply(logits, first_stage)
    scores = {r["index"]: r["relevance_score"] for r in got["results"]}
    np.testing.assert_allclose([scores[i] for i in range(len(DOCS))], want, rtol=1e-4, atol=1e-4)
    assert [r["index"] for r in got["results"]] == np.argsort(-np.array([scores[i] for i in range(5)]),
                                                              kind="stable").tolist()


def test_health_info_and_metrics(server: LiveServer) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    info = httpx.get(f"{server.url}/info").json()
    assert info["model_id"] == "tiny-reranker" and info["max_input_length"] == 128
    assert info["model_type"] == {"reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}}
    assert (info["max_client_batch_size"], info["max_concurrent_requests"], info["max_batch_tokens"],
            info["payload_limit"], info["auto_truncate"]) == (1000, 512, 16384, 2_000_000, True)
    httpx.post(f"{server.url}/rerank", json={"query": QUERY, "texts": DOCS})
    httpx.post(f"{server.url}/rerank", json={"query": QUERY, "texts": []})
    families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{server.url}/metrics").text)}
    counts = {(s.labels["route"], s.labels["status"]): s.value for s in families["crossrank_requests"].samples
              if s.name == "crossrank_requests_total"}
    assert counts[("/rerank", "200")] >= 1 and counts[("/rerank", "400")] >= 1
    for name in ("crossrank_request_duration_seconds", "crossrank_queue_pairs", "crossrank_batch_pairs",
                 "crossrank_batch_tokens", "crossrank_inference_duration_seconds", "crossrank_requests_in_flight"):
        assert name in families, name
    pairs = [s.value for s in families["crossrank_batch_pairs"].samples if s.name == "crossrank_batch_pairs_sum"]
    assert pairs[0] >= len(DOCS)
