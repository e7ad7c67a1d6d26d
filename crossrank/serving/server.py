"""Running the app under uvicorn: load the model, bind, serve, and drain in-flight requests on SIGTERM.

With ``workers > 1`` uvicorn forks that many processes; each loads the model through
:func:`app_from_env` from the spec that :func:`serve` puts in ``CROSSRANK_SERVE_SPEC``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from crossrank.serving.settings import ServerSettings

SPEC_ENV = "CROSSRANK_SERVE_SPEC"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """How to load the served model: ``CrossEncoder(path, backend=..., file_name=..., device=..., max_length=...)``."""

    path: str
    backend: str = "torch"
    file_name: str | None = None
    device: str | None = None
    max_length: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_model(spec: ModelSpec) -> Any:
    """The CrossEncoder for ``spec``; a clear error when this build has no such backend yet."""
    from crossrank.model import CrossEncoder

    kwargs: dict[str, Any] = dict(spec.extra)
    if spec.backend != "torch" or spec.file_name is not None:
        kwargs["backend"] = spec.backend
        if spec.file_name is not None:
            kwargs["file_name"] = spec.file_name
    try:
        return CrossEncoder(spec.path, device=spec.device, max_length=spec.max_length, **kwargs)
    except TypeError as err:
        if "backend" in str(err) or "file_name" in str(err):
            raise ValueError(f"this crossrank build cannot load --backend {spec.backend}"
                             f"{' --file-name ' + spec.file_name if spec.file_name else ''}: CrossEncoder does not "
                             "accept backend=/file_name= yet. Serve with --backend torch, or install a crossrank "
                             "with the ONNX backend (crossrank[onnx]).") from err
        raise


def uvicorn_options(settings: ServerSettings, access_log: bool = False) -> dict[str, Any]:
    return {"host": settings.host, "port": settings.port, "timeout_graceful_shutdown": settings.drain_timeout_s,
            "access_log": access_log, "log_level": "info", "lifespan": "on"}


def serve(spec: ModelSpec, settings: ServerSettings, access_log: bool = False) -> None:
    """Serve ``spec``'s model until SIGINT/SIGTERM; in-flight requests finish (up to ``drain_timeout_s``)."""
    import uvicorn

    from crossrank.serving.app import create_app

    if settings.workers > 1:
        os.environ[SPEC_ENV] = json.dumps({"model": asdict(spec), "settings": settings.to_dict()})
        uvicorn.run("crossrank.serving.server:app_from_env", factory=True, workers=settings.workers,
                    **uvicorn_options(settings, access_log))
        return
    model = load_model(spec)
    app = create_app(model, settings)
    logger.info("serving %s on http://%s:%d", spec.path, settings.host, settings.port)
    uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings, access_log))).run()


def app_from_env() -> Any:
    """The app factory each uvicorn worker process calls (reads ``CROSSRANK_SERVE_SPEC``)."""
    from crossrank.serving.app import create_app

    raw = os.environ.get(SPEC_ENV)
    if not raw:
        raise RuntimeError(f"{SPEC_ENV} is not set; start workers through `crossrank serve --workers N`.")
    data = json.loads(raw)
    return create_app(load_model(ModelSpec(**data["model"])), ServerSettings.from_dict(data["settings"]))
