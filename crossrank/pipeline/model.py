"""The model of a training run: a ``CrossEncoder`` from a :class:`~crossrank.pipeline.config.ModelSpec`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder
    from crossrank.pipeline.config import TrainConfig


def build_model(config: TrainConfig) -> CrossEncoder:
    """``CrossEncoder(name_or_path, ...)`` with the spec's options (a relative path resolves like data paths).

    Raises:
        FileNotFoundError: when the model folder does not exist.
    """
    from crossrank.model import CrossEncoder

    spec = config.model
    options = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "name_or_path"}
    return CrossEncoder(config.path(spec.name_or_path), **options)
