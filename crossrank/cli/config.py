"""Reading the ``crossrank train`` YAML: parse the file, apply ``--dotted.key value`` overrides, check it.

The keys, types and defaults are those of :class:`crossrank.pipeline.config.TrainConfig` (see that module
for the file format); this module only turns text into the mapping it checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from crossrank.cli import CLIError
from crossrank.pipeline.config import SHORT_FORMS, TrainConfig, train_config


def parse_value(text: str) -> Any:
    """YAML scalars on the command line: ``3e-5`` -> float, ``true`` -> bool, ``[a, b]`` -> list."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and text.lower().replace("e-", "").replace(".", "").replace("-", "").isdigit():
        return float(text)
    return value


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--a.b value`` pairs (``--a.b=value`` too) to ``config`` in place.

    A section given as a bare value is widened first: ``loss: BinaryCrossEntropyLoss`` with
    ``--loss.pos_weight 5`` becomes ``{name: BinaryCrossEntropyLoss, pos_weight: 5}`` (``model`` widens to
    ``name_or_path``, data entries to ``path``).
    """
    items = list(overrides)
    while items:
        flag = items.pop(0)
        if not flag.startswith("--") or len(flag) < 3:
            raise CLIError(f"expected --key value overrides after the config file; found {flag!r}.")
        key, eq, value = flag[2:].partition("=")
        if not eq:
            if not items or items[0].startswith("--"):
                raise CLIError(f"override --{key} needs a value, e.g. --{key} VALUE.")
            value = items.pop(0)
        node = config
        *parents, leaf = key.replace("-", "_").split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                wrap = SHORT_FORMS.get(part, "path")
                node[part] = {} if node.get(part) is None else {wrap: node[part]}
            node = node[part]
        node[leaf] = parse_value(value)
    return config


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's mapping; a syntax error keeps its line and column."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CLIError(f"cannot parse {path} as YAML: {where}{problem}.") from err
    if not isinstance(config, dict):
        raise CLIError(f"{path} must hold a YAML mapping (model:, data:, training:, ...); "
                       f"found {type(config).__name__}.")
    return config


def load_config(path: str | os.PathLike[str], overrides: list[str]) -> TrainConfig:
    """Read the YAML file, apply overrides, check and coerce it; relative paths resolve against the file.

    Raises:
        CLIError: on a missing or unparsable file or a malformed override.
        ValueError: on an unknown key or a value of the wrong type (naming the key).
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"config file {str(path)!r} does not exist; pass the path of a YAML file.")
    raw = apply_overrides(read_yaml(p), overrides)
    return train_config(raw, p.parent.resolve())
