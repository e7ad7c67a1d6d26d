"""Errors of the rerank server as JSON in TEI's shape, ``{"error": ..., "error_type": ...}``, with their status.

| status | error_type   | when                                                         |
|--------|--------------|--------------------------------------------------------------|
| 400    | empty        | the document list is empty                                   |
| 401    | unauthorized | missing or wrong API key                                     |
| 404    | not_found    | no such route                                                |
| 413    | validation   | too many documents, a body over the payload limit, an input  |
|        |              | over the model's length with ``truncate: false``             |
| 422    | validation   | malformed JSON, missing fields, wrong types                  |
| 429    | overloaded   | the server already holds ``max_concurrent_requests``         |
| 500    | backend      | the model failed while scoring (the server keeps serving)    |
| 503    | unhealthy    | the inference worker is not running (draining or crashed)    |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """An error a route returns to the client as ``{"error": message, "error_type": error_type}``."""

    def __init__(self, status: int, message: str, error_type: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, self.error_type, self.headers)


def error_response(status: int, message: str, error_type: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "error_type": error_type}, status_code=status, headers=dict(headers or {}))


def validation_message(errors: Sequence[Mapping[str, Any]], limit: int = 3) -> str:
    """One line from pydantic's error list: ``body.documents.2: Input should be a valid string``."""
    parts = []
    for err in list(errors)[:limit]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            parts.append(f"the body is not valid JSON ({ctx.get('error', err.get('msg', ''))})")
            continue
        parts.append(f"{loc}: {err.get('msg', 'invalid value')}")
    more = len(errors) - limit
    suffix = f" (and {more} more)" if more > 0 else ""
    return "invalid request: " + "; ".join(parts) + suffix + ". Check the field names and types against the API."


def empty_documents(field: str) -> ApiError:
    return ApiError(400, f"`{field}` is empty; send at least one document to rerank.", "empty")


def too_many_documents(field: str, found: int, limit: int) -> ApiError:
    return ApiError(413, f"`{field}` holds {found} documents, more than this server's limit of {limit} "
                         "(--max-client-batch-size); split the request or raise the limit.", "validation")


def overloaded(limit: int, retry_after_s: int) -> ApiError:
    return ApiError(429, f"the server is at its limit of {limit} concurrent requests "
                         f"(--max-concurrent-requests); retry after {retry_after_s} s.", "overloaded",
                    {"Retry-After": str(retry_after_s)})


def inference_failed(err: BaseException) -> ApiError:
    return ApiError(500, f"inference failed: {type(err).__name__}: {err}", "backend")


def unhealthy(reason: str) -> ApiError:
    return ApiError(503, f"the inference worker is not running ({reason}); try another replica.", "unhealthy")
