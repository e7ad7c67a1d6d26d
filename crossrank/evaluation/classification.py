"""Classification evaluation: best-threshold binary metrics for one label, averaged F1 for several."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from crossrank.evaluation import metrics as M
from crossrank.evaluation._csv import append_csv_row
from crossrank.evaluation._pairs import check_pairs, predict_all
from crossrank.evaluation._table import format_table
from crossrank.evaluation.base import Evaluator, epoch_text
from crossrank.inference.protocols import PairScorer

logger = logging.getLogger(__name__)

BINARY_KEYS = ("accuracy", "accuracy_threshold", "f1", "f1_threshold", "precision", "recall", "average_precision")
BINARY_HEADERS = (
    "Accuracy", "Accuracy_Threshold", "F1", "F1_Threshold", "Precision", "Recall", "Average_Precision",
)
MULTI_HEADERS = ("Macro_F1", "Micro_F1", "Weighted_F1")


class ClassificationEvaluator(Evaluator):
    """Compare the model's predictions on text pairs with gold class labels.

    Inputs:

    ==========================  ===========================================================
    argument                    meaning
    ==========================  ===========================================================
    ``sentence_pairs``          list of ``(text_a, text_b)``
    ``labels``                  one int per pair: 0/1 for a one-output model, a class id else
    ==========================  ===========================================================

    One output per pair (binary): ``accuracy``, ``accuracy_threshold``, ``f1``, ``f1_threshold``,
    ``precision``, ``recall`` (at the best-F1 threshold) and ``average_precision`` (primary). Several
    outputs: the arg-max class is compared to the label, giving ``f1_macro`` (primary), ``f1_micro`` and
    ``f1_weighted``. Keys are prefixed with ``{name}_``.

    Which of the two is decided once, when the evaluator is built (so ``primary_metric`` never changes
    between calls): by ``num_labels`` (the model's output count) when given, else by the labels — 0/1
    labels mean a one-output model, other class ids a multi-class one. A model whose output count does not
    match is refused with an error naming ``num_labels``.

    Example:
        >>> evaluator = ClassificationEvaluator([("a", "b"), ("c", "d")], [1, 0], name="mrpc")
        >>> evaluator.primary_metric
        'mrpc_average_precision'
    """

    def __init__(
        self,
        sentence_pairs: Sequence[Sequence[str]],
        labels: Sequence[int],
        *,
        name: str = "",
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        write_csv: bool = True,
        num_labels: int | None = None,
    ) -> None:
        """Check the inputs (no model call happens here).

        Args:
            sentence_pairs: The pairs to classify.
            labels: One gold class id per pair.
            name: Prefix of the metric keys and of the CSV file name.
            batch_size: Batch size of the scoring call.
            show_progress_bar: Progress bar while scoring (None: shown when logging at INFO or lower).
            write_csv: Append a CSV row under ``output_path`` on every call.
            num_labels: The model's number of outputs (default: 1 for 0/1 labels, several otherwise).
        """
        self.sentence_pairs = check_pairs(type(self).__name__, sentence_pairs, labels, "labels")
        self.labels = np.asarray(labels)
        if not np.issubdtype(self.labels.dtype, np.integer) and not np.all(np.mod(self.labels, 1) == 0):
            raise ValueError(
                f"ClassificationEvaluator: labels must be integer class ids; got values such as "
                f"{self.labels[np.mod(self.labels, 1) != 0][:3].tolist()}. Use CorrelationEvaluator for scores."
            )
        self.labels = self.labels.astype(np.int64)
        if len(np.unique(self.labels)) < 2:
            raise ValueError(
                f"ClassificationEvaluator: every gold label is {self.labels[0] if len(self.labels) else None}; "
                "precision, recall and average precision need both classes. Fix: evaluate on data with both."
            )
        self.name = name
        self.batch_size = batch_size
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.greater_is_better = True
        if num_labels is not None and num_labels < 1:
            raise ValueError(f"ClassificationEvaluator: num_labels must be at least 1; got {num_labels}.")
        self.binary = num_labels == 1 if num_labels is not None else bool(np.isin(self.labels, (0, 1)).all())
        self.primary_metric = self.prefixed("average_precision" if self.binary else "f1_macro")
        self.csv_file = "ClassificationEvaluator" + (f"_{name}" if name else "") + "_results.csv"

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Score all pairs in one call and compute the metrics for the model's number of outputs.

        Args:
            model: Anything with ``predict(pairs, batch_size=…, convert_to_numpy=True, show_progress_bar=…)``.
            output_path: Folder for the CSV log (skipped when None or ``write_csv`` is False).
            epoch: Epoch number for the log and CSV.
            steps: Step number for the log and CSV.

        Returns:
            The metrics, keys prefixed with the evaluator name.
        """
        logger.info("ClassificationEvaluator: evaluating %s%s", self.name or "the pairs", epoch_text(epoch, steps))
        scores = predict_all(model, self.sentence_pairs, self.batch_size, self.show_progress_bar)
        one_output = scores.ndim == 1 or scores.shape[1] == 1
        if one_output != self.binary:
            outputs = 1 if one_output else scores.shape[1]
            raise ValueError(
                f"ClassificationEvaluator was built for a {'one' if self.binary else 'several'}-output model "
                f"(primary metric {self.primary_metric}); the model returned {outputs} output(s) per pair. "
                f"Pass num_labels={outputs} when building the evaluator."
            )
        if one_output:
            metrics, headers = self._binary(scores.reshape(-1)), BINARY_HEADERS
        else:
            found = self.labels[(self.labels < 0) | (self.labels >= scores.shape[1])]
            if found.size:
                raise ValueError(
                    f"ClassificationEvaluator: the model has {scores.shape[1]} outputs but labels include "
                    f"{sorted(set(found.tolist()))[:5]}; labels must be class ids in [0, {scores.shape[1] - 1}]."
                )
            metrics = M.f1_scores(self.labels, np.argmax(scores, axis=1))
            headers = MULTI_HEADERS
        logger.info("\n%s", format_table(["metric", "value"], [[k, v] for k, v in metrics.items()]))
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, ["epoch", "steps", *headers], [epoch, steps, *metrics.values()])
        return self.prefix_metrics(metrics)

    def _binary(self, scores: np.ndarray) -> dict[str, float]:
        accuracy, accuracy_threshold = M.best_accuracy_and_threshold(scores, self.labels)
        f1, precision, recall, f1_threshold = M.best_f1_and_threshold(scores, self.labels)
        values = (
            accuracy, accuracy_threshold, f1, f1_threshold, precision, recall,
            M.average_precision(self.labels, scores),
        )
        return dict(zip(BINARY_KEYS, (float(v) for v in values)))
