"""``MiningConfig``: every knob of hard-negative mining in one validated dataclass, plus
``mine_from_config`` for the ``mine:`` section of a ``crossrank train`` YAML file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset

OutputFormat = Literal["triplet", "n-tuple", "labeled-pair", "labeled-list"]
OUTPUT_FORMATS: tuple[str, ...] = ("triplet", "n-tuple", "labeled-pair", "labeled-list")
SAMPLING_STRATEGIES: tuple[str, ...] = ("top", "random")


@dataclass
class MiningConfig:
    """Parameters of :func:`crossrank.mining.mine_hard_negatives` (see its docstring for semantics).

    Attributes:
        anchor_column_name: query column; default the first column.
        positive_column_name: positive column; default the second column.
        range_min: candidates skipped at the top of each (filtered) ranking.
        range_max: candidates considered per query; ``None`` derives it (see ``resolve_range_max``).
        max_score: candidates scoring above this are dropped.
        min_score: candidates scoring below this are dropped.
        absolute_margin: drop candidates with ``score + margin > hardest positive score``.
        relative_margin: drop candidates with ``score > pos - |pos| * margin`` (hardest positive).
        num_negatives: negatives per query.
        sampling_strategy: ``top`` (best remaining) or ``random`` (seeded sample of the remaining).
        seed: random seed for ``sampling_strategy="random"``.
        query_prompt / query_prompt_name / corpus_prompt / corpus_prompt_name: encoding prompts.
        include_positives: keep positives among candidates (forces ``n-tuple``; for evaluation data).
        output_format: ``triplet``, ``n-tuple``, ``labeled-pair`` or ``labeled-list``.
        output_scores: emit similarity scores instead of binary labels.
        batch_size: encoding (and cross-encoder) batch size.
        faiss_batch_size: queries per search chunk; ``None`` = bounded automatically (exact) / 16384 (FAISS).
        use_faiss: FAISS instead of exact chunked torch search.
        faiss_index: ``auto`` (flat up to 1M, IVF above), ``flat``, ``ivf`` or ``hnsw``.
        cache_folder: on-disk embedding cache.
        verbose: log settings, progress and the statistics table.
    """

    anchor_column_name: str | None = None
    positive_column_name: str | None = None
    range_min: int = 0
    range_max: int | None = None
    max_score: float | None = None
    min_score: float | None = None
    absolute_margin: float | None = None
    relative_margin: float | None = None
    num_negatives: int = 3
    sampling_strategy: Literal["top", "random"] = "top"
    seed: int = 12
    query_prompt_name: str | None = None
    query_prompt: str | None = None
    corpus_prompt_name: str | None = None
    corpus_prompt: str | None = None
    include_positives: bool = False
    output_format: OutputFormat = "triplet"
    output_scores: bool = False
    batch_size: int = 32
    faiss_batch_size: int | None = None
    use_faiss: bool = False
    faiss_index: Literal["auto", "flat", "ivf", "hnsw"] = "auto"
    cache_folder: str | None = None
    verbose: bool = True
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

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


_CONFIG_FIELDS = {f.name for f in dataclasses.fields(MiningConfig)} - {"extra"}
_LOADER_KEYS = {"model", "corpus", "corpus_column", "cross_encoder", "cross_encoder_batch_size", "device", "embedder"}


def config_from_dict(values: dict[str, Any]) -> MiningConfig:
    """Build a :class:`MiningConfig` from a plain mapping, rejecting unknown keys with the accepted list."""
    unknown = sorted(set(values) - _CONFIG_FIELDS - _LOADER_KEYS)
    if unknown:
        raise ValueError(
            f"Unknown mining option(s) {unknown}; accepted keys are {sorted(_CONFIG_FIELDS | _LOADER_KEYS)}."
        )
    return MiningConfig(**{k: v for k, v in values.items() if k in _CONFIG_FIELDS})


def _load_corpus(spec: Any, column: str | None) -> list[str] | None:
    if spec is None or isinstance(spec, list):
        return spec
    from crossrank.mining.eval_samples import read_table

    table = read_table(str(spec))
    name = column or ("text" if "text" in table else next(iter(table)))
    if name not in table:
        raise ValueError(f"Corpus file {spec} has no column {name!r}; found {list(table)}. Set corpus_column.")
    return [str(x) for x in table[name]]


def mine_from_config(cfg: dict[str, Any], dataset: Dataset) -> Dataset:
    """Mine hard negatives for ``dataset`` as a ``mine:`` YAML section describes.

    Accepted keys:

    - ``model`` (required): embedding model folder (Sentence Transformers layout or HF encoder).
    - ``corpus``: a list of texts or a JSONL/CSV/Parquet file; ``corpus_column`` picks its text column
      (default ``text``, else the first column). Without it, the positives form the corpus.
    - ``cross_encoder``: a reranker folder used to rescore candidates; ``cross_encoder_batch_size``.
    - ``device``: torch device for the embedder.
    - ``embedder``: further :class:`~crossrank.embedder.Embedder` keyword arguments, e.g. ``{backend: onnx,
      file_name: onnx/model_quint8_avx2.onnx}`` or the opt-in ``compact_memory`` / ``cpu_workers``.
    - every :class:`MiningConfig` field: ``anchor_column_name``, ``positive_column_name``, ``range_min``,
      ``range_max``, ``max_score``, ``min_score``, ``absolute_margin``, ``relative_margin``,
      ``num_negatives``, ``sampling_strategy``, ``seed``, ``query_prompt``, ``query_prompt_name``,
      ``corpus_prompt``, ``corpus_prompt_name``, ``include_positives``, ``output_format``, ``output_scores``,
      ``batch_size``, ``faiss_batch_size``, ``use_faiss``, ``faiss_index``, ``cache_folder``, ``verbose``.

    Example YAML::

        mine:
          model: models/all-MiniLM-L6-v2
          num_negatives: 5
          relative_margin: 0.05
          output_format: labeled-list

    Args:
        cfg: the section as a mapping.
        dataset: (anchor, positive) pairs.

    Returns:
        The mined dataset.

    Raises:
        ValueError: on a missing ``model`` or an unknown key.
    """
    if not isinstance(cfg, dict) or not cfg.get("model"):
        raise ValueError("The mine: section needs a 'model' key naming an embedding model folder.")
    config = config_from_dict(cfg)
    from crossrank.embedder import Embedder
    from crossrank.mining.hard_negatives import mine

    embedder = Embedder(cfg["model"], device=cfg.get("device"), **dict(cfg.get("embedder") or {}))
    cross_encoder = None
    if cfg.get("cross_encoder"):
        from crossrank.model import CrossEncoder

        cross_encoder = CrossEncoder(cfg["cross_encoder"])
    corpus = _load_corpus(cfg.get("corpus"), cfg.get("corpus_column"))
    return mine(dataset, embedder, config, corpus=corpus, cross_encoder=cross_encoder).dataset
