"""``TrainingArguments``: the ``transformers`` arguments with crossrank's defaults and additions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import transformers

BatchSampler = Literal["batch_sampler", "no_duplicates", "group_by_label"]
MultiDatasetOrder = Literal["proportional", "round_robin"]


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    """All of ``transformers.TrainingArguments``, plus:

    Args:
        batch_sampler: ``batch_sampler`` (shuffled batches), ``no_duplicates`` (no text twice in a batch,
            for in-batch-negative losses) or ``group_by_label`` (each batch holds one label value).
        multi_dataset_batch_sampler: order of batches when training on several datasets:
            ``proportional`` to their sizes or ``round_robin``.
        learning_rate_mapping: ``{regex: learning_rate}`` for parameters whose name matches ``regex``
            (e.g. a higher rate for the fresh ``classifier`` head).
        mini_batch_size: score the grid in chunks of this many pairs to bound memory (gradient caching).
        keep_freed_memory: opt-in, CPU only: glibc keeps freed blocks for reuse (``training.heap``), so a
            step stops faulting its activation pages in again; process-wide, so the CLI and fit opt in.
        length_buckets: score each batch's pairs in up to this many sub-batches sorted by length, each
            padded only to its own longest pair; the cuts minimise padded tokens plus a fixed cost per
            sub-batch. The loss and gradients are the same, less compute goes into padding. 1 scores the
            batch as one padded tensor.

    Unlike ``transformers``, unused columns are kept (``remove_unused_columns=False``) since the text
    columns are the inputs, and nothing is reported to trackers unless ``report_to`` says so.
    """

    remove_unused_columns: bool = field(default=False, metadata={"help": "crossrank keeps text columns."})
    report_to: str | list[str] | None = field(default="none", metadata={"help": "trackers to log to"})
    batch_sampler: BatchSampler = field(default="batch_sampler", metadata={"help": "how batches are drawn"})
    multi_dataset_batch_sampler: MultiDatasetOrder = field(
        default="proportional", metadata={"help": "order of batches across several datasets"}
    )
    learning_rate_mapping: dict[str, float] | None = field(
        default=None, metadata={"help": "regex on parameter names -> learning rate"}
    )
    mini_batch_size: int | None = field(default=None, metadata={"help": "pairs scored at once (memory bound)"})
    length_buckets: int = field(default=8, metadata={"help": "length-sorted sub-batches per batch (1: none)"})
    keep_freed_memory: bool = field(default=False, metadata={
        "help": "CPU: reuse freed memory instead of returning it to the OS (glibc mallopt, process-wide)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch_sampler not in ("batch_sampler", "no_duplicates", "group_by_label"):
            raise ValueError(
                f"batch_sampler must be 'batch_sampler', 'no_duplicates' or 'group_by_label'; "
                f"found {self.batch_sampler!r}."
            )
        if self.multi_dataset_batch_sampler not in ("proportional", "round_robin"):
            raise ValueError(
                "multi_dataset_batch_sampler must be 'proportional' or 'round_robin'; "
                f"found {self.multi_dataset_batch_sampler!r}."
            )
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(
                f"max_steps must be a positive number of optimizer steps, or -1 to train num_train_epochs; "
                f"found max_steps={self.max_steps}."
            )
        if self.max_steps == -1 and not self.num_train_epochs > 0:
            raise ValueError(
                f"num_train_epochs={self.num_train_epochs:g} trains 0 steps (max_steps is -1, so the epochs decide); "
                "set num_train_epochs > 0 (e.g. 1, or 0.5 for half an epoch) or max_steps > 0."
            )
        if self.length_buckets < 1:
            raise ValueError(f"length_buckets must be a positive integer; found {self.length_buckets}.")
        if self.mini_batch_size is not None and self.mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be a positive integer; found {self.mini_batch_size}.")
