"""Optimizer parameter groups: weight decay as ``transformers`` does it, plus ``learning_rate_mapping``.

``learning_rate_mapping`` maps regular expressions to learning rates; a parameter takes the rate of the
first pattern that matches its name (``re.search`` on the Hugging Face model's parameter names, such
as ``classifier.weight`` or ``bert.encoder.layer.0.attention.self.query.weight``), else the default
``learning_rate``. Each (learning rate, weight decay) combination becomes one parameter group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn


def compile_mapping(mapping: Mapping[str, float]) -> list[tuple[re.Pattern[str], float]]:
    """Compile the patterns, with an error naming the bad one."""
    compiled = []
    for pattern, rate in mapping.items():
        try:
            compiled.append((re.compile(pattern), float(rate)))
        except re.error as err:
            raise ValueError(
                f"learning_rate_mapping key {pattern!r} is not a valid regular expression ({err}); "
                "keys are regexes on parameter names, e.g. {'classifier': 1e-3}."
            ) from None
    return compiled


def parameter_groups(model: nn.Module, decay_names: Iterable[str], weight_decay: float,
                     mapping: Mapping[str, float] | None, default_lr: float) -> list[dict[str, Any]]:
    """Parameter groups keyed by (learning rate, weight decay); only parameters that require grad."""
    decay = set(decay_names)
    patterns = compile_mapping(mapping or {})
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        lr = next((rate for pattern, rate in patterns if pattern.search(name)), default_lr)
        key = (lr, weight_decay if name in decay else 0.0)
        groups.setdefault(key, []).append(param)
    return [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()]
