"""A rerank HTTP server that Cohere, Jina and TEI clients use unchanged, with dynamic batching.

``create_app(model, settings)`` builds the FastAPI app (to embed in a service of your own);
``crossrank serve MODEL`` runs it under uvicorn. Needs the ``serve`` extra: ``pip install crossrank[serve]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crossrank.serving.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve", "ModelSpec"]

if TYPE_CHECKING:  # pragma: no cover
    from crossrank.serving.app import create_app  # noqa: F401
    from crossrank.serving.server import ModelSpec, serve  # noqa: F401

_LAZY = {"create_app": "crossrank.serving.app", "serve": "crossrank.serving.server",
         "ModelSpec": "crossrank.serving.server"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'crossrank.serving' has no attribute {name!r}")
    import importlib

    try:
        module = importlib.import_module(_LAZY[name])
    except ModuleNotFoundError as err:
        if err.name in ("fastapi", "starlette", "uvicorn", "prometheus_client"):
            raise ModuleNotFoundError(f"crossrank.serving needs {err.name}; install it with "
                                      "`pip install crossrank[serve]`.", name=err.name) from err
        raise
    return getattr(module, name)
