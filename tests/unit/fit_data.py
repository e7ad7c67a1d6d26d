"""A small synthetic retrieval collection for the fit tests: queries share two topic words with their document."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ("the a of to in is was what who where when how which does are by for on with as at from and or not "
         "paris france capital city river country population people year born died king queen music song film "
         "movie book author water fire earth moon star planet animal plant tree food apple computer science "
         "physics number first second last name called known largest small new old").split()
TOPICS = [w for w in WORDS if len(w) > 3]


def write_collection(folder: Path, queries: int = 60, documents: int = 120, seed: int = 0) -> dict[str, Path]:
    """``pairs.jsonl`` (query, document), ``corpus.jsonl`` (_id, title, text) and a ``beir/`` folder of the same."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = []
    for i in range(documents):
        a, b = TOPICS[i % len(TOPICS)], TOPICS[(i * 7 + 3) % len(TOPICS)]
        filler = " ".join(rng.choice(WORDS) for _ in range(12))
        corpus.append({"_id": f"d{i}", "title": f"{a} {b}", "text": f"the {a} and the {b} {filler}"})
    rows = []
    for q in range(queries):
        doc = corpus[(q * 2) % documents]
        a, b = doc["title"].split()
        rows.append({"query": f"what is the {a} of {b} {q}", "document": f"{doc['title']} {doc['text']}"})
    paths = {"pairs": folder / "pairs.jsonl", "corpus": folder / "corpus.jsonl"}
    paths["pairs"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    paths["corpus"].write_text("".join(json.dumps(r) + "\n" for r in corpus))
    beir = folder / "beir"
    (beir / "qrels").mkdir(parents=True, exist_ok=True)
    (beir / "corpus.jsonl").write_text(paths["corpus"].read_text())
    (beir / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{q}", "text": r["query"]}) + "\n"
                                                for q, r in enumerate(rows)))
    (beir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{q}\td{(q * 2) % documents}\t1\n" for q in range(queries)))
    paths["beir"] = beir
    return paths
