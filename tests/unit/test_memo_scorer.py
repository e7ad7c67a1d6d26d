"""MemoScorer: each distinct pair scored once, the logits the model itself gives, attributes passed through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crossrank import CrossEncoder
from crossrank.inference.fusion import Fusion
from crossrank.inference.memo import MemoScorer

PAIRS = [("q one", "a first document"), ("q two", "another, longer second document"), ("q one", "a third")]


class Counting:
    """A CrossEncoder whose scored pairs are counted."""

    def __init__(self, model: CrossEncoder) -> None:
        self.model, self.asked = model, []

    @property
    def max_length(self) -> int:
        return self.model.max_length

    def logits(self, pairs: list, batch_size: int = 32, show_progress_bar: bool | None = None) -> np.ndarray:
        self.asked.append(len(pairs))
        return self.model.logits(pairs, batch_size=batch_size, show_progress_bar=show_progress_bar)


def test_repeats_are_answered_from_memory_with_the_models_own_logits(_tiny_bert_master: Path) -> None:
    model = CrossEncoder(str(_tiny_bert_master))
    counting = Counting(model)
    scorer = MemoScorer(counting)
    first = scorer.logits(PAIRS[:2])
    again = scorer.logits([PAIRS[1], PAIRS[2], PAIRS[0], PAIRS[1]])
    assert counting.asked == [2, 1] and scorer.scored_pairs == 3
    direct = model.logits(PAIRS)
    np.testing.assert_allclose(first, direct[:2], atol=1e-6)
    np.testing.assert_allclose(again, direct[[1, 2, 0, 1]], atol=1e-6)
    assert again.dtype == np.float32 and again.shape == (4, 1) and scorer.logits([]).shape == (0, 1)


def test_a_new_max_length_scores_the_pairs_again(_tiny_bert_master: Path) -> None:
    model = CrossEncoder(str(_tiny_bert_master))
    counting = Counting(model)
    scorer = MemoScorer(counting)
    scorer.logits(PAIRS)
    model.max_length = 4  # the second document no longer fits whole: its score may change
    short = scorer.logits(PAIRS)
    assert counting.asked == [3, 3] and scorer.scored_pairs == 6
    np.testing.assert_allclose(short, model.logits(PAIRS), atol=1e-6)


def test_attributes_are_read_and_written_on_the_wrapped_model(_tiny_bert_master: Path) -> None:
    model = CrossEncoder(str(_tiny_bert_master))
    scorer = MemoScorer(model)
    scorer.fusion = Fusion(0.4, "zscore")
    assert model.fusion.weight == 0.4 and scorer.max_length == model.max_length
    with pytest.raises(AttributeError, match="MemoScorer._memo is set once, by the constructor."):
        scorer._memo = {}
