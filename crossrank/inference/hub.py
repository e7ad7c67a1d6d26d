"""Upload a saved model folder to the Hugging Face Hub."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from crossrank.inference.loading import is_offline_error


def push_folder(save: Callable[[Path], Path], repo_id: str, private: bool | None = None, token: str | None = None,
                commit_message: str = "Upload crossrank reranker") -> str:
    """Write a model with ``save(folder)`` into a temporary folder and upload it as the Hub repo ``repo_id``."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        folder = save(Path(tmp) / "model")
        try:
            api.create_repo(repo_id, private=private, exist_ok=True)
            info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message=commit_message,
                                     ignore_patterns=[".crossrank.json"])
        except Exception as err:
            if is_offline_error(err):
                raise ConnectionError(
                    f"could not reach the Hugging Face Hub to push {repo_id!r} ({type(err).__name__}). "
                    "Check the network and HF_HUB_OFFLINE, or save locally with save_pretrained(path)."
                ) from err
            raise
    return str(getattr(info, "commit_url", info))
