"""``MiningConfig``: every knob of hard-negative mining in one validated, typed dataclass.

The ``mine:`` section of a ``crossrank train`` YAML file and the ``crossrank mine`` flags are views of it
(``crossrank.pipeline.mine``); the mining itself is ``crossrank.mining.hard_negatives``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

OutputFormat = Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"]
OUTPUT_FORMATS: tuple[str, ...] = ("triplet", "n-tuple", "labeled-pair", "labeled-list")
SAMPLING_STRATEGIES: tuple[str, ...] = ("top", "random")


def _opt(default: Any, text: str, *flags: str) -> Any:
    """A field with its help text and extra command-line spellings."""
    return field(default=default, metadata={"help": text, "flags": flags})


@dataclass
class MiningConfig:
    """Parameters of :func:`crossrank.mining.mine_hard_negatives` (see its docstring for semantics).

    Each field's ``metadata["help"]`` is its documentation; the ``mine:`` YAML section and the
    ``crossrank mine`` flags (``--num-negatives`` ...) are generated from these fields.
    """

    anchor_column_name: str | None = _opt(None, "query column (default: the first column)", "--anchor-column")
    positive_column_name: str | None = _opt(None, "positive column (default: the second column)",
                                            "--positive-column")
    range_min: int = _opt(0, "candidates skipped at the top of each (filtered) ranking")
    range_max: int | None = _opt(None, "candidates considered per query (default: derived, see resolve_range_max)")
    max_score: float | None = _opt(None, "drop candidates scoring above this")
    min_score: float | None = _opt(None, "drop candidates scoring below this")
    absolute_margin: float | None = _opt(None, "drop candidates with score + margin > the hardest positive's")
    relative_margin: float | None = _opt(None, "drop candidates with score > pos - |pos| * margin (hardest positive)")
    num_negatives: int = _opt(3, "negatives per query")
    sampling_strategy: Literal["top", "random"] = _opt("top", "top: the best remaining; random: a seeded sample")
    seed: int = _opt(12, "random seed of sampling_strategy=random")
    query_prompt_name: str | None = _opt(None, "name of the embedder's prompt for queries")
    query_prompt: str | None = _opt(None, "text put before each query when encoding")
    corpus_prompt_name: str | None = _opt(None, "name of the embedder's prompt for documents")
    corpus_prompt: str | None = _opt(None, "text put before each document when encoding")
    include_positives: bool = _opt(False, "keep positives among the candidates (forces n-tuple; for evaluation)")
    output_format: OutputFormat = _opt("triplet", "triplet | n-tuple | labeled-pair | labeled-list")
    output_scores: bool = _opt(False, "emit similarity scores instead of binary labels")
    batch_size: int = _opt(32, "encoding (and cross-encoder) batch size")
    faiss_batch_size: int | None = _opt(None, "queries per search chunk (default: bounded automatically)")
    use_faiss: bool = _opt(False, "search with FAISS instead of exact chunked torch")
    faiss_index: Literal["auto", "flat", "ivf", "hnsw"] = _opt("auto", "auto: flat up to 1M vectors, IVF above")
    cache_folder: str | None = _opt(None, "on-disk embedding cache folder")
    verbose: bool = _opt(True, "log settings, progress and the statistics table")

    def __post_init__(self) -> None:
        self.validate()

    @property
    def has_filters(self) -> bool:
        """Whether a margin or ``max_score`` is set (these widen the automatic window)."""
        return any(x is not None for x in (self.absolute_margin, self.relative_margin, self.max_score))

    def validate(self) -> None:
        """Check values that do not depend on the data.

        Raises:
            ValueError: naming the bad field, the value found and what is accepted.
        """
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(
                f"Unknown output_format {self.output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}."
            )
        if self.sampling_strategy not in SAMPLING_STRATEGIES:
            raise ValueError(f"Unknown sampling_strategy {self.sampling_strategy!r}; expected 'top' or 'random'.")
        if self.num_negatives < 1:
            raise ValueError(f"num_negatives must be at least 1, got num_negatives={self.num_negatives}.")
        if self.range_min < 0:
            raise ValueError(f"range_min must be non-negative, got range_min={self.range_min}.")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size}.")
        if self.faiss_batch_size is not None and self.faiss_batch_size < 1:
            raise ValueError(f"faiss_batch_size must be a positive integer, got {self.faiss_batch_size}.")


def resolve_range_max(config: MiningConfig, max_positives: int, rescoring: bool = False) -> int:
    """The candidate window: ``range_max`` if given, else derived from the other settings.

    Without filters the window is ``range_min + num_negatives + max_positives``. When a margin or
    ``max_score`` is set (or ``min_score`` together with cross-encoder rescoring), some candidates will be
    dropped, so ten times as many negatives are considered: ``range_min + 10 * num_negatives + max_positives``.

    Args:
        config: the mining configuration.
        max_positives: the largest number of dataset rows sharing one query.
        rescoring: whether a cross-encoder rescoring run is active.

    Returns:
        The window size.

    Raises:
        ValueError: when the window cannot hold ``num_negatives`` after skipping ``range_min``.
    """
    range_max = config.range_max
    if range_max is None:
        widen = config.has_filters or (rescoring and config.min_score is not None)
        range_max = config.range_min + config.num_negatives * (10 if widen else 1) + max_positives
    if config.range_min >= range_max:
        raise ValueError(
            f"range_min must be smaller than range_max, got range_min={config.range_min} and range_max={range_max}."
        )
    if config.num_negatives > range_max - config.range_min:
        raise ValueError(
            f"num_negatives={config.num_negatives} does not fit the window: only {range_max - config.range_min} "
            f"candidates remain after skipping range_min={config.range_min} of range_max={range_max}. "
            "Lower num_negatives or range_min, or raise range_max."
        )
    return range_max


def check_corpus_size(config: MiningConfig, corpus_size: int, max_positives: int) -> None:
    """Refuse a ``range_min`` that skips past the end of the corpus (every query would lose negatives).

    Each query ranks at most ``corpus_size - max_positives`` candidates that are not its positives; skipping
    ``range_min`` of them must leave room for ``num_negatives``.
    """
    available = corpus_size - max_positives
    if config.range_min and config.range_min + config.num_negatives > available:
        most = max(available - config.num_negatives, 0)
        raise ValueError(
            f"range_min={config.range_min} skips more candidates than the corpus holds: it has {corpus_size} "
            f"texts, so a query has at most {available} candidates besides its positives, and "
            f"num_negatives={config.num_negatives} of them must remain. Fix: lower range_min to at most {most}, "
            "lower num_negatives, or add candidate texts (corpus / --corpus)."
        )
