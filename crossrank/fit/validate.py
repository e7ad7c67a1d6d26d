"""Stage 1, validate: read PAIRS, CORPUS and --eval, check them, and describe them.

Bad input ends here with a one-line error, before any model is loaded: PAIRS without usable query/document
columns, a corpus that is empty or too small to rank, judgements naming documents the corpus lacks.
Documents that PAIRS gives as text but CORPUS lacks are added to the corpus (and counted); duplicate rows
are merged (and counted); queries without any relevant document cannot be trained or measured on and are
set aside (and counted).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from crossrank.data.columns import is_positive
from crossrank.fit import sources
from crossrank.fit.collection import LoadNotes, corpus_from_rows, load_pairs
from crossrank.fit.config import FitConfig

MIN_CORPUS = 20
EVAL_PREFIX = "eval:"


def load_corpus(config: FitConfig, notes: LoadNotes) -> dict[str, str]:
    """The CORPUS documents (empty when no CORPUS is given: PAIRS or a BEIR folder then provide them)."""
    if config.corpus is None:
        return {}
    from pathlib import Path

    if Path(config.corpus).is_dir():
        data = sources.load_beir(config.corpus)
        notes.columns.append(f"CORPUS {config.corpus}: a BEIR folder's corpus.jsonl")
        return dict(data.corpus)
    return corpus_from_rows(sources.read_rows(config.corpus), config.corpus, notes)


def _check_documents(qrels: dict[str, dict[str, float]], corpus: dict[str, str], what: str) -> None:
    missing = sorted({d for judged in qrels.values() for d in judged if d not in corpus})
    if missing:
        raise ValueError(f"{what} name {len(missing)} document ids that CORPUS does not have (e.g. {missing[:3]}); "
                         "pass the CORPUS these ids come from, or give the documents as text.")


def _text_stats(texts: list[str]) -> dict[str, float]:
    words = np.array([len(t.split()) for t in texts] or [0], dtype=np.float64)
    return {"mean_words": float(words.mean()), "p90_words": float(np.percentile(words, 90))}


def describe(queries: dict[str, str], qrels: dict[str, dict[str, float]], corpus: dict[str, str],
             eval_ids: list[str]) -> dict[str, Any]:
    """Counts that the summary prints and the sizing stage reads."""
    positives = [sum(1 for g in qrels.get(q, {}).values() if is_positive(g)) for q in queries]
    answered = [p for p in positives if p > 0]
    grades = sorted({g for judged in qrels.values() for g in judged.values()})
    return {
        "queries": len(queries), "answered_queries": len(answered), "eval_queries": len(eval_ids),
        "unanswered_queries": len(positives) - len(answered), "documents": len(corpus),
        "positives_per_query": {"min": min(answered, default=0), "mean": float(np.mean(answered or [0])),
                                "max": max(answered, default=0)},
        "judged_negatives": sum(1 for judged in qrels.values() for g in judged.values() if not is_positive(g)),
        "grades": grades[:20], "graded": len([g for g in grades if is_positive(g)]) > 1,
        "query_text": _text_stats(list(queries.values())),
        "document_text": _text_stats(list(corpus.values())[:5000]),
    }


def validate(config: FitConfig) -> dict[str, Any]:
    """Load and check the inputs; returns the collection (queries, qrels, corpus), the notes and the stats."""
    notes = LoadNotes()
    corpus = load_corpus(config, notes)
    queries, qrels = load_pairs(config.pairs, corpus, "", notes)
    eval_ids: list[str] = []
    if config.eval:
        eval_queries, eval_qrels = load_pairs(config.eval, corpus, EVAL_PREFIX, notes)
        queries.update(eval_queries)
        qrels.update(eval_qrels)
        eval_ids = sorted(q for q in eval_queries if any(is_positive(g) for g in eval_qrels.get(q, {}).values()))
        if not eval_ids:
            raise ValueError(f"--eval {config.eval}: no query has a relevant document; nothing to evaluate on.")
    _check_documents(qrels, corpus, "the judgements")
    unknown = sorted(q for q in qrels if q not in queries)
    if unknown:
        raise ValueError(f"the qrels name {len(unknown)} queries that PAIRS does not have (e.g. {unknown[:3]}); "
                         "pass the queries file of the same split.")
    if len(corpus) < MIN_CORPUS:
        raise ValueError(f"the corpus holds {len(corpus)} documents; fit needs at least {MIN_CORPUS} to rank "
                         "(pass --corpus with the collection the queries are asked against).")
    stats = describe(queries, qrels, corpus, eval_ids)
    return {"queries": queries, "qrels": qrels, "corpus": corpus, "eval_ids": eval_ids,
            "notes": asdict(notes), "stats": stats}


def summary(payload: dict[str, Any]) -> str:
    s, n = payload["stats"], payload["notes"]
    pos = s["positives_per_query"]
    text = (f"{s['answered_queries']} queries with a relevant document ({pos['mean']:.2f} positives per query, "
            f"max {pos['max']}), {s['documents']} documents")
    extras = [f"{n['added_documents']} documents from PAIRS added to the corpus" if n["added_documents"] else "",
              f"{n['duplicate_rows']} duplicate rows merged" if n["duplicate_rows"] else "",
              f"{n['empty_documents']} empty CORPUS rows skipped" if n["empty_documents"] else "",
              f"{n['duplicate_ids']} repeated CORPUS ids (the last row kept)" if n["duplicate_ids"] else "",
              f"{s['unanswered_queries']} queries without a relevant document set aside"
              if s["unanswered_queries"] else "",
              f"{s['eval_queries']} of them from --eval" if s["eval_queries"] else ""]
    columns = "".join(f"\n    {line}" for line in n["columns"])
    return text + "".join(f"; {e}" for e in extras if e) + columns
