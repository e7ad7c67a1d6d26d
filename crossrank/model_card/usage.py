"""The usage snippets of the model card: crossrank and plain transformers, as Python source strings."""

from __future__ import annotations


def crossrank_usage(model_id: str | None, fusion: bool) -> str:
    """Python snippet: load the model with crossrank, score pairs, rank documents (and fuse, if stored)."""
    model_id = model_id or "path/to/this/model"
    return "\n".join([
        "from crossrank import CrossEncoder", "", f'model = CrossEncoder("{model_id}")', "",
        "query = \"How many people live in Berlin?\"",
        "documents = [", '    "Berlin has about 3.7 million inhabitants.",',
        '    "Berlin is known for its museums.",', "]", "",
        "scores = model.predict([(query, document) for document in documents])",
        "print(scores)", "", "for hit in model.rank(query, documents, return_documents=True):",
        '    print(f"{hit[\'score\']:.3f}  {hit[\'text\']}")',
        *_fusion_usage(fusion),
    ])


def _fusion_usage(fusion: bool) -> list[str]:
    """Extra lines for a model that stores a first-stage fusion weight (none otherwise)."""
    if not fusion:
        return []
    return [
        "", "# The model stores a first-stage fusion weight: pass the retriever's score of each document",
        "# (BM25 or embedding similarity) and rank by the blend of both scores.",
        "first_stage_scores = [0.82, 0.35]",
        "for hit in model.rank(query, documents, first_stage_scores=first_stage_scores):",
        "    print(hit)",
    ]


def transformers_usage(model_id: str | None, num_labels: int, activation_name: str | None) -> str:
    """Python snippet: the same scores with plain transformers (tokenizer, logits, the activation)."""
    model_id = model_id or "path/to/this/model"
    if num_labels > 1:
        activation = "scores = logits.softmax(dim=-1)"
    elif activation_name == "Identity":
        activation = "scores = logits.squeeze(-1)"
    else:
        activation = "scores = torch.sigmoid(logits).squeeze(-1)"
    return "\n".join([
        "import torch", "from transformers import AutoModelForSequenceClassification, AutoTokenizer", "",
        f'tokenizer = AutoTokenizer.from_pretrained("{model_id}")',
        f'model = AutoModelForSequenceClassification.from_pretrained("{model_id}").eval()', "",
        "queries = [\"How many people live in Berlin?\"] * 2",
        "documents = [\"Berlin has about 3.7 million inhabitants.\", \"Berlin is known for its museums.\"]",
        "features = tokenizer(queries, documents, padding=True, truncation=True, return_tensors=\"pt\")",
        "with torch.no_grad():", "    logits = model(**features).logits", activation, "print(scores)",
    ])
