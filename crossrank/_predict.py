"""Batched scoring for ``CrossEncoder.predict``: tokenize once, sort by length, pad per batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

logger = logging.getLogger("crossrank.model")


def check_pairs(pairs: Sequence[Any]) -> list[tuple[str, str]]:
    """Validate pairs: each must be two strings. Raises with the index of the first bad one."""
    if isinstance(pairs, str):
        raise TypeError("predict expects (query, document) pairs; found a single string.")
    out = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(
                f"pair {i} must be (query, document); found {type(pair).__name__} {str(pair)[:60]!r}."
            )
        q, d = pair
        if not isinstance(q, str) or not isinstance(d, str):
            raise ValueError(
                f"pair {i} must hold two strings; found ({type(q).__name__}, {type(d).__name__}). "
                "Convert the values with str() or drop the row."
            )
        out.append((q, d))
    return out


def pad_batch(encoded: dict[str, list[list[int]]], idx: np.ndarray, pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad the token lists ``encoded[key][i]`` for ``i`` in ``idx`` into tensors."""
    width = max(len(encoded["input_ids"][i]) for i in idx)
    batch: dict[str, torch.Tensor] = {}
    for key, values in encoded.items():
        fill = pad_id if key == "input_ids" else 0
        arr = np.full((len(idx), width), fill, dtype=np.int64)
        for row, i in enumerate(idx):
            seq = values[i]
            arr[row, : len(seq)] = seq
        batch[key] = torch.from_numpy(arr)
    return batch


def warn_truncation(lengths: np.ndarray, max_length: int) -> None:
    hit = int((lengths >= max_length).sum())
    if hit:
        logger.warning(
            "%d of %d pairs reached max_length=%d tokens; longer pairs are truncated (longest first). "
            "Raise max_length to score them whole.", hit, len(lengths), max_length,
        )


def score_sorted(model: CrossEncoder, pairs: list[tuple[str, str]], batch_size: int,
                 show_progress_bar: bool) -> torch.Tensor:
    """Raw fp32 logits (N, num_labels) in input order."""
    if not pairs:
        return torch.empty((0, model.num_labels))
    enc = model.tokenize(pairs, padding=False)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    encoded = {k: enc[k] for k in keys}
    lengths = np.fromiter((len(x) for x in encoded["input_ids"]), dtype=np.int64, count=len(pairs))
    warn_truncation(lengths, model.max_length)
    order = np.argsort(-lengths, kind="stable")
    pad_id = model.tokenizer.pad_token_id or 0
    device = model.device
    out = torch.empty((len(pairs), model.num_labels), dtype=torch.float32)
    starts = range(0, len(pairs), batch_size)
    for start in tqdm(starts, desc="Scoring", disable=not show_progress_bar, unit="batch"):
        idx = order[start : start + batch_size]
        batch = {k: v.to(device) for k, v in pad_batch(encoded, idx, pad_id).items()}
        logits = model.model(**batch, return_dict=True).logits
        out[torch.from_numpy(idx)] = logits.float().cpu()
    return out
