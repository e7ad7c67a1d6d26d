"""A BERT reranker's last encoder layer computed for the first token only, for the exported graph.

A ``BertForSequenceClassification`` head reads one vector: the pooler's dense + tanh of the first ([CLS])
token's final state. Every other token's output of the *last* layer is computed and thrown away, yet that
layer's query projection, attention output, feed-forward block and layer norms run on every token. Here the
last layer still projects keys and values from every token (the first token attends to all of them), but its
query, attention output and feed-forward run on the first token alone. The result is the same arithmetic on
the rows that reach the head, so the logits match the full model's to float rounding (the parity gate checks
them to 1e-4 on every export); for MiniLM-L6 it removes about 83% of one of six layers' matrix products.

Only the exact BERT layout is rewritten (``BertForSequenceClassification`` with its pooler, an encoder-only
config); any other model is traced whole.
"""

from __future__ import annotations

import torch
from torch import nn


def supports_first_token(model: nn.Module) -> bool:
    """Whether ``model`` is a BERT sequence classifier whose graph can take the first-token last layer."""
    config = getattr(model, "config", None)
    bert = getattr(model, "bert", None)
    return (type(model).__name__ == "BertForSequenceClassification" and config is not None
            and not getattr(config, "is_decoder", False) and not getattr(config, "add_cross_attention", False)
            and getattr(config, "chunk_size_feed_forward", 0) == 0 and bert is not None
            and getattr(bert, "pooler", None) is not None and len(bert.encoder.layer) >= 1)


def model_mask(bert: nn.Module, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The additive attention mask the model itself builds, ``(batch, 1, 1 or sequence, sequence)``.

    Built by transformers' own function, so the traced graph has the mask pattern ONNX Runtime's attention
    fusion recognises (a hand-written mask of the same values left every layer unfused).
    """
    from transformers.masking_utils import create_bidirectional_mask

    mask = create_bidirectional_mask(config=bert.config, inputs_embeds=hidden, attention_mask=attention_mask)
    if mask is None:  # no padding anywhere: transformers skips the mask
        mask = torch.zeros(hidden.shape[0], 1, 1, hidden.shape[1], dtype=hidden.dtype)
    return mask


def first_token_layer(layer: nn.Module, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The output of BERT ``layer`` at position 0 only, ``(batch, 1, hidden)``; ``mask``: that row's mask."""
    attention = layer.attention.self
    heads, size = attention.num_attention_heads, attention.attention_head_size
    batch = hidden.shape[0]
    first = hidden[:, :1]
    query = attention.query(first).view(batch, -1, heads, size).transpose(1, 2)
    key = attention.key(hidden).view(batch, -1, heads, size).transpose(1, 2)
    value = attention.value(hidden).view(batch, -1, heads, size).transpose(1, 2)
    weights = torch.softmax(torch.matmul(query, key.transpose(2, 3)) * attention.scaling + mask, dim=-1)
    context = torch.matmul(weights, value).transpose(1, 2).reshape(batch, 1, heads * size)
    attended = layer.attention.output(context, first)
    return layer.output(layer.intermediate(attended), attended)


class FirstTokenLogits(nn.Module):
    """``BertForSequenceClassification`` logits with the last layer run for the first token only."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.names: list[str] = []

    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        inputs = dict(zip(self.names, features))
        bert = self.model.bert
        hidden = bert.embeddings(input_ids=inputs["input_ids"], token_type_ids=inputs.get("token_type_ids"))
        mask = model_mask(bert, hidden, inputs["attention_mask"])
        layers = bert.encoder.layer
        for layer in layers[:-1]:
            hidden = layer(hidden, mask)
        pooled = bert.pooler(first_token_layer(layers[-1], hidden, mask[:, :, :1]))
        return self.model.classifier(self.model.dropout(pooled))
