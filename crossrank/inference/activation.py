"""The activation applied to logits at prediction time, and its home in ``config.json``.

Stored as ``config.sentence_transformers = {"activation_fn": "torch.nn.modules.activation.Sigmoid"}``,
the key Sentence Transformers reads too, so both libraries give the same scores for a saved model.
Sentence Transformers v6 writes it to ``config_sentence_transformers.json`` instead; that file is read
first, then ``config.json``, then the pre-v4 key.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

logger = logging.getLogger(__name__)

CONFIG_KEY = "sentence_transformers"
LEGACY_KEY = "sbert_ce_default_activation_function"
ST_CONFIG_FILE = "config_sentence_transformers.json"


def default_device() -> torch.device:
    """CUDA when available, else Apple MPS, else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def qualified_name(fn: Callable[..., Any]) -> str:
    cls = fn if isinstance(fn, type) else type(fn)
    return f"{cls.__module__}.{cls.__qualname__}"


def resolve(path: str) -> nn.Module:
    """Instantiate an activation from its dotted path; only ``torch.*`` classes are accepted."""
    if not path.startswith("torch."):
        raise ValueError(
            f"activation_fn {path!r} in the model config is not a torch class; crossrank only loads torch.* "
            "activations from a config. Pass activation_fn=... to CrossEncoder to use another one."
        )
    module_name, _, cls_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), cls_name)()


def stored_in_folder(source: str | None) -> str | None:
    """The ``activation_fn`` of a Sentence Transformers v6 ``config_sentence_transformers.json``, if any."""
    if not source:
        return None
    path: Path | None = Path(source) / ST_CONFIG_FILE
    if not path.is_file():
        path = _cached_hub_file(source)
    if path is None:
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("activation_fn")
    except (OSError, ValueError, AttributeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); fix or delete the file.") from None
    return value if isinstance(value, str) and value else None


def _cached_hub_file(source: str) -> Path | None:
    if Path(source).exists():
        return None
    try:
        from transformers.utils import cached_file

        found = cached_file(source, ST_CONFIG_FILE, _raise_exceptions_for_missing_entries=False,
                            _raise_exceptions_for_connection_errors=False)
    except (OSError, ValueError):
        return None
    return Path(found) if found else None


def from_config(config: Any, source: str | None = None) -> nn.Module:
    """The activation stored with the model, else Sigmoid for one label and Identity for several.

    ``source`` (the model folder or Hub id) lets a v6 ``config_sentence_transformers.json`` take precedence.
    """
    stored = getattr(config, CONFIG_KEY, None)
    path = stored_in_folder(source)
    path = path or (stored.get("activation_fn") if isinstance(stored, dict) else None)
    path = path or getattr(config, LEGACY_KEY, None)
    if path:
        return resolve(path)
    return nn.Sigmoid() if config.num_labels == 1 else nn.Identity()


def store_in_config(config: Any, fn: Callable[..., Any]) -> None:
    """Record ``fn`` in ``config`` so a saved model predicts with it after loading."""
    stored = dict(getattr(config, CONFIG_KEY, None) or {})
    stored["activation_fn"] = qualified_name(fn)
    setattr(config, CONFIG_KEY, stored)


def apply_activation(fn: Callable[..., Any] | None, logits: np.ndarray) -> np.ndarray:
    """``fn`` applied to float logits (what ``predict`` returns for them); None leaves them as they are."""
    if fn is None:
        return logits
    with torch.no_grad():
        return fn(torch.as_tensor(logits)).cpu().numpy().astype(logits.dtype, copy=False)
