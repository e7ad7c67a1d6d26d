"""The rerank server as a FastAPI app: ``create_app(model, settings)``.

Routes: ``POST /v2/rerank`` and ``POST /v1/rerank`` (Cohere; v1 also Jina), ``POST /rerank`` (TEI),
``GET /health``, ``GET /info``, ``GET /metrics``. The app holds no per-client state, so any number of
processes or replicas can stand behind one load balancer.

Example (embedding it in a service of your own)::

    from crossrank import CrossEncoder
    from crossrank.serving import ServerSettings, create_app

    app = create_app(CrossEncoder("path/to/reranker"), ServerSettings(max_client_batch_size=200))
    # uvicorn my_module:app --host 127.0.0.1 --port 8080
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from crossrank.serving import errors
from crossrank.serving.errors import ApiError, error_response, validation_message
from crossrank.serving.metrics import CONTENT_TYPE, ServerMetrics
from crossrank.serving.middleware import ApiKeyMiddleware, MetricsMiddleware, PayloadLimitMiddleware
from crossrank.serving.schemas import cohere, tei
from crossrank.serving.service import RerankService, Scored, ScoreRequest
from crossrank.serving.settings import ServerSettings
from crossrank.version import __version__

ROUTES = ("/v2/rerank", "/v1/rerank", "/rerank", "/health", "/info", "/metrics")
_ERROR_TYPES = {404: "not_found", 405: "method_not_allowed", 413: "validation", 400: "validation"}


class Admission:
    """At most ``limit`` rerank requests inside at once; the next one gets a 429 with ``Retry-After``."""

    def __init__(self, limit: int, retry_after_s: int, metrics: ServerMetrics) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.count = 0

    async def __aenter__(self) -> None:
        if self.count >= self.limit:
            raise errors.overloaded(self.limit, self.retry_after_s)
        self.count += 1
        self.metrics.in_flight.set(self.count)

    async def __aexit__(self, *exc: object) -> None:
        self.count -= 1
        self.metrics.in_flight.set(self.count)


def create_app(model: Any, settings: ServerSettings | None = None, *, engine: Any = None,
               metrics: ServerMetrics | None = None) -> FastAPI:
    """A FastAPI app serving ``model`` (a one-label CrossEncoder) under ``settings``.

    Args:
        model: The reranker; its ``engine`` scores, its activation and stored fusion shape the scores.
        settings: Limits and batching; defaults to :class:`ServerSettings()`.
        engine: A scoring engine to use instead of ``model.engine``.
        metrics: Collectors to record into (e.g. on a registry you already export).
    """
    settings = settings or ServerSettings()
    metrics = metrics or ServerMetrics()
    if hasattr(model, "eval"):
        model.eval()  # serving scores with dropout off, whatever state a caller's model was left in
    service = RerankService(model, engine if engine is not None else model.engine, settings, metrics)
    admission = Admission(settings.max_concurrent_requests, settings.retry_after_s, metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.ensure_started()
        yield
        service.stop(settings.drain_timeout_s)

    app = FastAPI(title="crossrank rerank server", version=__version__, lifespan=lifespan)
    app.state.service, app.state.settings, app.state.metrics = service, settings, metrics
    _install_error_handlers(app)
    _add_rerank_routes(app, service, settings, admission)
    _add_info_routes(app, service, settings, metrics, model_info(model, service, settings))
    app.add_middleware(PayloadLimitMiddleware, limit=settings.payload_limit)
    if settings.api_key is not None:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=ROUTES)
    return app


def model_info(model: Any, service: RerankService, settings: ServerSettings) -> dict[str, Any]:
    config = getattr(model, "config", None)
    id2label = {str(k): str(v) for k, v in (getattr(config, "id2label", None) or {0: "LABEL_0"}).items()}
    try:
        dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    except (AttributeError, StopIteration, TypeError):
        dtype = "float32"
    return {"model_id": settings.model_id or str(getattr(model, "name_or_path", "model")),
            "dtype": dtype, "id2label": id2label, "label2id": {v: int(k) for k, v in id2label.items()},
            "max_input_length": service.max_length, "backend": str(getattr(model, "backend", "torch"))}


def _respond(content: Any, scored: Scored) -> JSONResponse:
    return JSONResponse(content, headers={"X-Truncated-Pairs": str(scored.truncated),
                                          "X-Compute-Tokens": str(scored.tokens)})


def _check_count(field: str, documents: Sequence[Any], settings: ServerSettings) -> None:
    if not documents:
        raise errors.empty_documents(field)
    if len(documents) > settings.max_client_batch_size:
        raise errors.too_many_documents(field, len(documents), settings.max_client_batch_size)


def _add_rerank_routes(app: FastAPI, service: RerankService, settings: ServerSettings, admission: Admission) -> None:
    @app.post("/v2/rerank", summary="Cohere v2 rerank")
    async def cohere_v2(body: cohere.CohereV2Request) -> JSONResponse:
        _check_count("documents", body.documents, settings)
        per_doc = body.max_tokens_per_doc or settings.max_tokens_per_doc
        async with admission:
            scored = await service.rerank(ScoreRequest(body.query, body.documents, max_tokens_per_doc=per_doc,
                                                       first_stage_scores=body.first_stage_scores))
        warnings = scored.warnings(service.max_length)
        return _respond(cohere.v2_response(scored.order[: body.top_n], scored.scores, scored.tokens, warnings), scored)

    @app.post("/v1/rerank", summary="Cohere v1 / Jina rerank")
    async def cohere_v1(body: cohere.CohereV1Request) -> JSONResponse:
        _check_count("documents", body.documents, settings)
        texts = cohere.document_texts(body.documents, body.rank_fields)
        per_doc = body.max_tokens_per_doc or settings.max_tokens_per_doc
        async with admission:
            scored = await service.rerank(ScoreRequest(body.query, texts, max_tokens_per_doc=per_doc,
                                                       first_stage_scores=body.first_stage_scores))
        docs = body.documents if body.return_documents else None
        model_name = body.model or settings.model_id or str(getattr(service.model, "name_or_path", "model"))
        content = cohere.v1_response(scored.order[: body.top_n], scored.scores, docs, model_name, scored.tokens,
                                     scored.warnings(service.max_length))
        return _respond(content, scored)

    @app.post("/rerank", summary="Text Embeddings Inference rerank")
    async def tei_rerank(body: tei.TeiRerankRequest) -> JSONResponse:
        _check_count("texts", body.texts, settings)
        truncate = settings.auto_truncate if body.truncate is None else body.truncate
        req = ScoreRequest(body.query, body.texts, truncate=truncate, direction=body.truncation_direction or "right",
                           max_tokens_per_doc=settings.max_tokens_per_doc, raw_scores=bool(body.raw_scores),
                           first_stage_scores=body.first_stage_scores)
        async with admission:
            scored = await service.rerank(req)
        texts = body.texts if body.return_text else None
        return _respond(tei.rerank_response(scored.order, scored.scores, texts), scored)


def _add_info_routes(app: FastAPI, service: RerankService, settings: ServerSettings, metrics: ServerMetrics,
                     info: dict[str, Any]) -> None:
    @app.get("/health", summary="200 while the inference worker runs; 503 when draining or crashed")
    async def health() -> JSONResponse:
        service.ensure_started()
        if not service.healthy:
            raise errors.unhealthy("draining" if service.stopped else "the worker thread ended")
        return JSONResponse({"status": "ok"})

    @app.get("/info", summary="model and limits, under TEI's names")
    async def get_info() -> JSONResponse:
        return JSONResponse(tei.info(settings, info, __version__))

    @app.get("/metrics", summary="Prometheus text format")
    async def get_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(exc.errors()), "validation")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code in (404, 405):
            message = (f"{message}: {request.method} {request.url.path}; this server answers POST /v2/rerank, "
                       "POST /v1/rerank, POST /rerank, GET /health, GET /info, GET /metrics.")
        return error_response(exc.status_code, message, _ERROR_TYPES.get(exc.status_code, "validation"), exc.headers)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"internal error: {type(exc).__name__}: {exc}", "backend")
