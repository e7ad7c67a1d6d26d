"""Training and evaluation data from a :class:`~crossrank.pipeline.config.DataSpec`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset

    from crossrank.pipeline.config import DataSpec, TrainConfig


def load_split(config: TrainConfig, spec: DataSpec) -> Dataset:
    """The ``datasets.Dataset`` a data spec names: its file, split, columns, first ``limit`` rows, lists.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: on columns the file lacks, or rows that cannot be grouped into lists.
    """
    from crossrank.data.io import load_dataset_file

    dataset = load_dataset_file(config.path(spec.path), split=spec.split)
    if spec.columns:
        missing = [c for c in spec.columns if c not in dataset.column_names]
        if missing:
            raise ValueError(f"columns {missing} are not in {spec.path}; it has {dataset.column_names}.")
        dataset = dataset.select_columns(list(spec.columns))
    if spec.limit is not None:  # 0 is an error, not "all rows"
        from crossrank.data.limits import check_limit

        dataset = dataset.select(range(min(check_limit(spec.limit, spec.path), len(dataset))))
    if spec.lists:
        from crossrank.data.grouping import pairs_to_lists

        try:
            dataset = pairs_to_lists(dataset)
        except ValueError as err:
            raise ValueError(f"data {spec.path}: {err}") from err
    return dataset
