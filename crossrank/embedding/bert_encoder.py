"""An inference-only BERT encoder in plain PyTorch: the :class:`~crossrank.embedder.Embedder`'s light path.

Embedding for mining needs only the last hidden states of a BERT-family encoder. Importing the
``transformers`` modeling stack for that costs over 100 MiB of resident memory (it pulls in the compiler,
distributed and accelerate machinery) and adds per-call overhead. This module runs the same computation —
word + position + token-type embeddings, post-norm self-attention blocks with scaled-dot-product attention
— from the folder's ``model.safetensors`` and tokenizes with the ``tokenizers`` library from
``tokenizer.json``. :func:`load_light_bert` returns ``None`` for anything it cannot reproduce exactly
(other architectures, relative positions, unknown activations, no safetensors or ``tokenizer.json``), and the
Embedder then falls back to ``transformers``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# in place: the feed-forward activation is the largest tensor of a block; reusing it saves an allocation
_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": torch.ops.aten.gelu_,
    "relu": torch.relu_,
    "gelu_new": lambda x: torch.ops.aten.gelu_(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: torch.ops.aten.gelu_(x, approximate="tanh"),
}
_PREFIXES = ("", "bert.", "model.")


@dataclass(frozen=True)
class BertShape:
    """The hyper-parameters of a BERT encoder that the forward pass depends on."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    activation: str

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BertShape | None:
        """The shape from a ``config.json``, or ``None`` when this encoder cannot run it exactly."""
        supported = (
            config.get("model_type") == "bert"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and config.get("hidden_act", "gelu") in _ACTIVATIONS
            and not config.get("is_decoder", False)
            and config.get("hidden_size", 0) % max(config.get("num_attention_heads", 1), 1) == 0
        )
        if not supported:
            return None
        return cls(
            vocab_size=int(config["vocab_size"]), hidden_size=int(config["hidden_size"]),
            num_layers=int(config["num_hidden_layers"]), num_heads=int(config["num_attention_heads"]),
            intermediate_size=int(config["intermediate_size"]),
            max_positions=int(config.get("max_position_embeddings", 512)),
            type_vocab_size=int(config.get("type_vocab_size", 2)),
            layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)), activation=str(config.get("hidden_act", "gelu")),
        )


class _Block(nn.Module):
    """One post-norm transformer block: fused QKV projection, SDPA, feed-forward."""

    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        h = shape.hidden_size
        self.heads = shape.num_heads
        self.act = _ACTIVATIONS[shape.activation]
        self.qkv = nn.Linear(h, 3 * h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=shape.layer_norm_eps)
        self.up = nn.Linear(h, shape.intermediate_size)
        self.down = nn.Linear(shape.intermediate_size, h)
        self.out_norm = nn.LayerNorm(h, eps=shape.layer_norm_eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        batch, width, hidden = x.shape
        q, k, v = self.qkv(x).view(batch, width, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        x = self.attn_norm(self.attn_out(attended.transpose(1, 2).reshape(batch, width, hidden)).add_(x))
        return self.out_norm(self.down(self.act(self.up(x))).add_(x))


class LightBert(nn.Module):
    """BERT's encoder without pooler or heads; ``forward`` returns the last hidden states ``(B, T, H)``."""

    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.shape = shape
        self.word = nn.Embedding(shape.vocab_size, shape.hidden_size)
        self.position = nn.Embedding(shape.max_positions, shape.hidden_size)
        self.token_type = nn.Embedding(shape.type_vocab_size, shape.hidden_size)
        self.embed_norm = nn.LayerNorm(shape.hidden_size, eps=shape.layer_norm_eps)
        self.blocks = nn.ModuleList(_Block(shape) for _ in range(shape.num_layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        width = input_ids.size(1)
        x = self.word(input_ids).add_(self.token_type.weight[0]).add_(self.position.weight[:width])
        x = self.embed_norm(x)
        keep = attention_mask.bool()[:, None, None, :]
        for block in self.blocks:
            x = block(x, keep)
        return x


def _block_weights(state: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
    layer = f"encoder.layer.{i}."
    attn = layer + "attention."

    def cat(kind: str) -> torch.Tensor:
        return torch.cat([state[f"{attn}self.{name}.{kind}"] for name in ("query", "key", "value")])

    return {
        "qkv.weight": cat("weight"), "qkv.bias": cat("bias"),
        "attn_out.weight": state[attn + "output.dense.weight"], "attn_out.bias": state[attn + "output.dense.bias"],
        "attn_norm.weight": state[attn + "output.LayerNorm.weight"],
        "attn_norm.bias": state[attn + "output.LayerNorm.bias"],
        "up.weight": state[layer + "intermediate.dense.weight"], "up.bias": state[layer + "intermediate.dense.bias"],
        "down.weight": state[layer + "output.dense.weight"], "down.bias": state[layer + "output.dense.bias"],
        "out_norm.weight": state[layer + "output.LayerNorm.weight"],
        "out_norm.bias": state[layer + "output.LayerNorm.bias"],
    }


def _strip_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    for prefix in _PREFIXES:
        if prefix + "embeddings.word_embeddings.weight" in state:
            return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return None


def _load_weights(model: LightBert, state: dict[str, torch.Tensor]) -> None:
    emb = "embeddings."
    weights = {
        "word.weight": state[emb + "word_embeddings.weight"],
        "position.weight": state[emb + "position_embeddings.weight"],
        "token_type.weight": state[emb + "token_type_embeddings.weight"],
        "embed_norm.weight": state[emb + "LayerNorm.weight"], "embed_norm.bias": state[emb + "LayerNorm.bias"],
    }
    for i in range(model.shape.num_layers):
        weights.update({f"blocks.{i}.{k}": v for k, v in _block_weights(state, i).items()})
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)


def _light_tokenizer(folder: Path) -> Any | None:
    """The folder's ``tokenizer.json`` as a ``tokenizers.Tokenizer`` when it is a plain BERT WordPiece one."""
    tok_file, cfg_file = folder / "tokenizer.json", folder / "tokenizer_config.json"
    if not tok_file.is_file():
        return None
    cfg = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.is_file() else {}
    spec = json.loads(tok_file.read_text(encoding="utf-8"))
    normalizer = spec.get("normalizer") or {}
    if cfg.get("tokenizer_class", "BertTokenizer") not in ("BertTokenizer", "BertTokenizerFast"):
        return None
    if normalizer.get("type") != "BertNormalizer" or (spec.get("model") or {}).get("type") != "WordPiece":
        return None
    if "do_lower_case" in cfg and bool(cfg["do_lower_case"]) != bool(normalizer.get("lowercase", True)):
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tok_file))
    tokenizer.no_padding()
    return tokenizer


def tokenizer_max_length(folder: Path) -> int | None:
    """``model_max_length`` from ``tokenizer_config.json`` when set to a real limit."""
    cfg_file = folder / "tokenizer_config.json"
    if not cfg_file.is_file():
        return None
    limit = json.loads(cfg_file.read_text(encoding="utf-8")).get("model_max_length")
    return int(limit) if isinstance(limit, int | float) and math.isfinite(limit) and limit < 1_000_000 else None


def load_light_bert(folder: Path) -> tuple[LightBert, Any] | None:
    """``(encoder, tokenizers.Tokenizer)`` for a plain BERT folder with safetensors weights, else ``None``."""
    config_file, weights_file = folder / "config.json", folder / "model.safetensors"
    if not (config_file.is_file() and weights_file.is_file()):
        return None
    shape = BertShape.from_config(json.loads(config_file.read_text(encoding="utf-8")))
    tokenizer = _light_tokenizer(folder) if shape else None
    if shape is None or tokenizer is None:
        return None
    from safetensors.torch import load_file

    state = _strip_prefix(load_file(str(weights_file)))
    if state is None:
        return None
    model = LightBert(shape)
    _load_weights(model, state)
    return model.eval(), tokenizer
