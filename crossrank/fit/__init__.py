"""``crossrank fit``: from (query, relevant document) pairs and a corpus to a reranker measured against the
user's retriever, in one call.

``crossrank.fit(pairs, corpus=..., time_budget="30m")`` and ``crossrank fit PAIRS --corpus CORPUS`` run the
same stages (see :mod:`crossrank.fit.stages`): validate, split, size, first stage, mine, warm start, train,
evaluate, report, export. Each stage's output is cached in ``out`` and ``resume=True`` continues from the
last finished one. The package itself is callable, so ``crossrank.fit(...)`` is :func:`fit`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from crossrank.fit.config import FitConfig, load_fit_yaml, parse_duration


def fit(pairs: Any = None, corpus: str | None = None, config: FitConfig | None = None, **options: Any) -> dict:
    """Fit a reranker; returns the test results (also in ``OUT/results.json``).

    Args:
        pairs: PAIRS: a rows file, ``[queries file, qrels TSV]`` or a BEIR folder.
        corpus: CORPUS: a rows file of documents (optional for a BEIR folder).
        config: a full :class:`FitConfig` (then ``pairs``/``corpus``/``options`` override its fields).
        **options: any :class:`FitConfig` field, e.g. ``eval=[...]``, ``out="runs/fit"``, ``time_budget="30m"``,
            ``first_stage="auto"``, ``loss="listnet"``, ``export="int8"``, ``resume=True``.

    Example:
        >>> import crossrank  # doctest: +SKIP
        >>> results = crossrank.fit("data/pairs.jsonl", corpus="data/corpus.jsonl", time_budget="30m")  # doctest: +SKIP
        >>> results["test"]["realistic"]["fused"]["ndcg@10"]  # doctest: +SKIP
    """
    from dataclasses import asdict

    from crossrank.fit.runner import fit_run

    values = asdict(config) if config is not None else {}
    if pairs is not None:
        values["pairs"] = pairs
    if corpus is not None:
        values["corpus"] = corpus
    values.update(options)
    return fit_run(FitConfig(**values))


class _CallableModule(types.ModuleType):
    """Lets ``crossrank.fit(...)`` call :func:`fit` while ``crossrank.fit`` stays this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict:
        return fit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["FitConfig", "fit", "load_fit_yaml", "parse_duration"]
