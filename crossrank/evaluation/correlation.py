"""Correlation evaluation: Pearson and Spearman between predicted and gold scores of text pairs."""

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


class CorrelationEvaluator(Evaluator):
    """Correlate the model's score for each pair with a gold similarity score.

    Inputs:

    ==========================  =============================================
    argument                    meaning
    ==========================  =============================================
    ``sentence_pairs``          list of ``(text_a, text_b)``
    ``scores``                  one gold float per pair (any scale)
    ==========================  =============================================

    Returns ``{name}_pearson`` and ``{name}_spearman`` (primary). A constant prediction has no defined
    correlation and gives NaN, as in the reference.

    Example:
        >>> evaluator = CorrelationEvaluator([("a", "b"), ("c", "d")], [0.9, 0.1], name="sts-dev")
        >>> evaluator.primary_metric
        'sts-dev_spearman'
    """

    def __init__(
        self,
        sentence_pairs: Sequence[Sequence[str]],
        scores: Sequence[float],
        name: str = "",
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        write_csv: bool = True,
    ) -> None:
        """Check the inputs (no model call happens here).

        Args:
            sentence_pairs: The pairs to score.
            scores: One gold score per pair.
            name: Prefix of the metric keys and of the CSV file name.
            batch_size: Batch size of the scoring call.
            show_progress_bar: Progress bar while scoring (None: shown when logging at INFO or lower).
            write_csv: Append a CSV row under ``output_path`` on every call.
        """
        self.sentence_pairs = check_pairs(type(self).__name__, sentence_pairs, scores, "scores")
        if len(self.sentence_pairs) < 2:
            raise ValueError("CorrelationEvaluator: a correlation needs at least 2 pairs; got 1.")
        self.scores = np.asarray(scores, dtype=np.float64)
        if not np.all(np.isfinite(self.scores)):
            raise ValueError(
                f"CorrelationEvaluator: gold scores must be finite numbers; found "
                f"{int(np.sum(~np.isfinite(self.scores)))} NaN or infinite values. Drop or fix those rows."
            )
        if np.all(self.scores == self.scores[0]):
            raise ValueError(
                f"CorrelationEvaluator: every gold score is {self.scores[0]:g}; a correlation with a constant is "
                "undefined. Fix: evaluate on pairs with different gold scores."
            )
        self.name = name
        self.batch_size = batch_size
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.greater_is_better = True
        self.primary_metric = self.prefixed("spearman")
        self.csv_file = "CorrelationEvaluator" + (f"_{name}" if name else "") + "_results.csv"

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Score all pairs in one call and correlate the predictions with the gold scores.

        Args:
            model: Anything with ``predict(pairs, batch_size=…, convert_to_numpy=True, show_progress_bar=…)``.
            output_path: Folder for the CSV log (skipped when None or ``write_csv`` is False).
            epoch: Epoch number for the log and CSV.
            steps: Step number for the log and CSV.

        Returns:
            ``{name}_pearson`` and ``{name}_spearman``.
        """
        logger.info("CorrelationEvaluator: evaluating %s%s", self.name or "the pairs", epoch_text(epoch, steps))
        predictions = predict_all(model, self.sentence_pairs, self.batch_size, self.show_progress_bar)
        if predictions.ndim > 1 and predictions.shape[1] != 1:
            raise ValueError(
                f"CorrelationEvaluator needs one score per pair; the model returned {predictions.shape[1]} "
                "outputs per pair. Use a model with num_labels=1."
            )
        predictions = predictions.reshape(-1)
        metrics = {"pearson": M.pearson(self.scores, predictions), "spearman": M.spearman(self.scores, predictions)}
        logger.info("\n%s", format_table(["metric", "value"], [[k, v] for k, v in metrics.items()]))
        if output_path is not None and self.write_csv:
            headers = ["epoch", "steps", "Pearson_Correlation", "Spearman_Correlation"]
            append_csv_row(output_path, self.csv_file, headers, [epoch, steps, *metrics.values()])
        return self.prefix_metrics(metrics)
