"""Upload a saved model folder to the Hugging Face Hub."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from crossrank._loading import is_offline_error

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder


def push_folder(model: CrossEncoder, repo_id: str, private: bool | None = None, token: str | None = None,
                commit_message: str = "Upload crossrank reranker") -> str:
    """Save ``model`` to a temporary folder and upload it as the Hub repository ``repo_id``."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save_pretrained(Path(tmp) / "model")
        try:
            api.create_repo(repo_id, private=private, exist_ok=True)
            info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message=commit_message)
        except Exception as err:
            if is_offline_error(err):
                raise ConnectionError(
                    f"could not reach the Hugging Face Hub to push {repo_id!r} ({type(err).__name__}). "
                    "Check the network and HF_HUB_OFFLINE, or save locally with save_pretrained(path)."
                ) from err
            raise
    return str(getattr(info, "commit_url", info))
