"""Loss maths on tiny hand-computed grids: exact values, masking, shapes and error messages."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from crossrank import losses as cr
from crossrank.losses._utils import compact_valid_first, masked_log_softmax, masked_mean

ONE = SimpleNamespace(num_labels=1)
THREE = SimpleNamespace(num_labels=3)
LOG2 = math.log(2.0)


def t(rows: list[list[float]]) -> Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def full_mask(scores: Tensor) -> Tensor:
    return torch.ones(scores.shape[:2], dtype=torch.bool)


def value(loss: nn.Module, scores: Tensor, labels: Tensor | None, mask: Tensor | None = None) -> float:
    return float(loss(scores, labels, full_mask(scores) if mask is None else mask))


# --- pointwise ---------------------------------------------------------------------------------------


def test_bce_exact_and_pos_weight() -> None:
    assert value(cr.BinaryCrossEntropyLoss(ONE), t([[0.0], [0.0]]), t([[1.0], [0.0]])) == pytest.approx(LOG2)
    weighted = cr.BinaryCrossEntropyLoss(ONE, pos_weight=3.0)
    assert value(weighted, t([[0.0], [0.0]]), t([[1.0], [0.0]])) == pytest.approx(2 * LOG2)
    assert weighted.get_config_dict() == {"activation_fn": "torch.nn.modules.linear.Identity", "pos_weight": 3.0}


def test_mse_exact_and_activation() -> None:
    assert value(cr.MSELoss(ONE), t([[1.0], [3.0]]), t([[0.0], [1.0]])) == pytest.approx(2.5)
    assert value(cr.MSELoss(ONE, activation_fn=nn.Sigmoid()), t([[0.0]]), t([[1.0]])) == pytest.approx(0.25)


def test_cross_entropy_exact_and_errors() -> None:
    loss = cr.CrossEntropyLoss(THREE)
    scores = torch.zeros((2, 1, 3))
    assert value(loss, scores, t([[0.0], [2.0]])) == pytest.approx(math.log(3.0))
    with pytest.raises(ValueError, match=r"integer class ids in 0\.\.2; found labels \[0\.0, 3\.0\]"):
        loss(scores, t([[0.0], [3.0]]), full_mask(scores))
    with pytest.raises(ValueError, match=r"scores of shape \(batch, 1, num_classes\).*found \(2, 1\)"):
        loss(torch.zeros((2, 1)), t([[0.0], [1.0]]), torch.ones((2, 1), dtype=torch.bool))
    with pytest.raises(ValueError, match=r"num_labels >= 2\), but the model has 1"):
        cr.CrossEntropyLoss(ONE)


def test_one_label_losses_reject_multi_label_models() -> None:
    for cls in (cr.BinaryCrossEntropyLoss, cr.MSELoss, cr.MarginMSELoss, cr.LambdaLoss, cr.ListNetLoss,
                cr.ListMLELoss, cr.PListMLELoss, cr.ADRMSELoss, cr.RankNetLoss, cr.MultipleNegativesRankingLoss):
        with pytest.raises(ValueError, match=rf"^{cls.__name__} needs a model with 1 output label\(s\), but the "
                                             r"model has 3\. Load the model with num_labels=1"):
            cls(THREE)


def test_missing_labels_message() -> None:
    with pytest.raises(ValueError, match=r"^MSELoss needs a label column \(a target score per pair\); the batch"):
        cr.MSELoss(ONE)(t([[0.0]]), None, torch.ones((1, 1), dtype=torch.bool))


# --- pairwise ----------------------------------------------------------------------------------------


def test_margin_mse_margins_and_raw_scores() -> None:
    loss, scores = cr.MarginMSELoss(ONE), t([[3.0, 1.0, 0.0]])
    assert value(loss, scores, t([[1.0, 2.0]])) == pytest.approx(1.0)  # margins [2, 3] vs [1, 2]
    assert value(loss, scores, t([[5.0, 4.0, 3.0]])) == pytest.approx(1.0)  # raw teacher scores
    assert value(loss, t([[3.0, 1.0]]), torch.tensor([1.5])) == pytest.approx(0.25)  # triplet, one margin
    with pytest.raises(ValueError, match=r"2 margin\(s\) .* or 3 raw teacher scores .*found labels of shape \(1, 4\)"):
        loss(scores, t([[1.0, 2.0, 3.0, 4.0]]), full_mask(scores))


def test_ranknet_exact_and_padding() -> None:
    expected = math.log1p(math.exp(-1.0)) / LOG2
    loss = cr.RankNetLoss(ONE)
    assert value(loss, t([[1.0, 0.0]]), t([[1.0, 0.0]])) == pytest.approx(expected)
    mask = torch.tensor([[True, True, False]])
    assert value(loss, t([[1.0, 0.0, 99.0]]), t([[1.0, 0.0, 7.0]]), mask) == pytest.approx(expected)
    assert "weighting_scheme" not in loss.get_config_dict()


# --- LambdaLoss --------------------------------------------------------------------------------------


def test_lambda_loss_ndcg2pp_two_documents() -> None:
    # sorted by prediction = ideal order; ideal DCG 1, gains [1, 0]; |1/D1 - 1/D2| = 1 - 1/log2(3)
    weight = (10.0 + 1.0) * (1.0 - 1.0 / math.log2(3.0))
    expected = weight * math.log1p(math.exp(-1.0)) / LOG2
    assert value(cr.LambdaLoss(ONE), t([[1.0, 0.0]]), t([[1.0, 0.0]])) == pytest.approx(expected)
    natural = cr.LambdaLoss(ONE, reduction_log="natural")
    assert value(natural, t([[1.0, 0.0]]), t([[1.0, 0.0]])) == pytest.approx(expected * LOG2)


def test_lambda_loss_k_keeps_pairs_touching_the_top_k() -> None:
    loss = cr.LambdaLoss(ONE, weighting_scheme=cr.NoWeightingScheme(), k=1, reduction_log="natural")
    # predicted order 0,1,2; labels [0, 2, 1]: pairs (1>0) and (2>0) touch rank 1; pair (1>2) does not
    got = value(loss, t([[2.0, 1.0, 0.0]]), t([[0.0, 2.0, 1.0]]))
    assert got == pytest.approx((math.log1p(math.exp(1.0)) + math.log1p(math.exp(2.0))) / 2)


def test_lambda_loss_rejects_bad_reduction_log() -> None:
    with pytest.raises(ValueError, match=r"reduction_log must be 'natural' or 'binary'; found 'ten'"):
        cr.LambdaLoss(ONE, reduction_log="ten")  # type: ignore[arg-type]


# --- listwise ----------------------------------------------------------------------------------------


def test_listnet_exact() -> None:
    assert value(cr.ListNetLoss(ONE), t([[0.0, 0.0]]), t([[1.0, 1.0]])) == pytest.approx(LOG2)


def test_listmle_and_plistmle_exact() -> None:
    zeros = t([[0.0, 0.0, 0.0]])
    listmle = value(cr.ListMLELoss(ONE), zeros, zeros)
    assert listmle == pytest.approx(math.log(3.0) + LOG2)
    # default weights for n=3: [3, 1, 0] / 4
    plist = value(cr.PListMLELoss(ONE), zeros, zeros)
    assert plist == pytest.approx((3 * math.log(3.0) + LOG2) / 4, rel=1e-6)


def test_listmle_label_order_is_stable_on_ties() -> None:
    loss = cr.ListMLELoss(ONE, respect_input_order=False)
    # labels [0, 1, 1]: true order is doc1, doc2 (tie kept in input order), doc0
    got = value(loss, t([[0.0, 2.0, 1.0]]), t([[0.0, 1.0, 1.0]]))
    e = math.exp
    expected = -(2.0 - math.log(e(0) + e(2) + e(1))) - (1.0 - math.log(e(0) + e(1))) - 0.0
    assert got == pytest.approx(expected)


def test_adrmse_exact() -> None:
    got = value(cr.ADRMSELoss(ONE), t([[0.0, 0.0]]), t([[1.0, 0.0]]))
    # true ranks [1, 2], approximate ranks [1.5, 1.5]
    assert got == pytest.approx((0.25 / math.log2(2.0) + 0.25 / math.log2(3.0)) / 2)


def test_plistmle_custom_rank_discount() -> None:
    weight = cr.PListMLELambdaWeight(rank_discount_fn=lambda mask: mask.float())
    loss = cr.PListMLELoss(ONE, lambda_weight=weight)
    assert value(loss, t([[0.0, 0.0]]), t([[1.0, 0.0]])) == pytest.approx(LOG2 / 2)


LIST_LOSSES: list[tuple[type, dict[str, Any]]] = [
    (cr.LambdaLoss, {}),
    (cr.LambdaLoss, {"weighting_scheme": cr.NDCGLoss1Scheme()}),
    (cr.LambdaLoss, {"weighting_scheme": cr.LambdaRankScheme(), "k": 2}),
    (cr.RankNetLoss, {}),
    (cr.ListNetLoss, {}),
    (cr.ListMLELoss, {}),
    (cr.ListMLELoss, {"respect_input_order": False}),
    (cr.PListMLELoss, {}),
    (cr.PListMLELoss, {"respect_input_order": False}),
    (cr.ADRMSELoss, {}),
]


def _ragged(seed: int) -> tuple[Tensor, Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=torch.bool)
    return torch.randn((4, 5), generator=g), torch.rand((4, 5), generator=g) * 3, mask


@pytest.mark.parametrize(("cls", "kwargs"), LIST_LOSSES)
def test_padding_never_leaks(cls: type, kwargs: dict[str, Any]) -> None:
    scores, labels, mask = _ragged(0)
    loss = cls(ONE, **kwargs)
    results = []
    for pad_score, pad_label in [(0.0, 0.0), (1e4, 9.0), (-1e4, -5.0)]:
        s = scores.masked_fill(~mask, pad_score).requires_grad_()
        value_ = loss(s, labels.masked_fill(~mask, pad_label), mask)
        (grad,) = torch.autograd.grad(value_, s)
        assert torch.all(grad[~mask] == 0.0)
        results.append((value_.detach(), grad))
    for other in results[1:]:
        assert torch.equal(other[0], results[0][0]) and torch.equal(other[1], results[0][1])


@pytest.mark.parametrize(("cls", "kwargs"), [c for c in LIST_LOSSES if c[0] in (cr.ListNetLoss, cr.ListMLELoss,
                                                                                  cr.PListMLELoss)])
def test_per_list_losses_are_the_mean_over_real_lists(cls: type, kwargs: dict[str, Any]) -> None:
    """An all-padding row is not a list: it neither adds a zero to the mean nor turns it into NaN."""
    scores, labels, mask = _ragged(1)
    loss = cls(ONE, **kwargs)
    per_row = [float(loss(scores[i : i + 1, : int(mask[i].sum())], labels[i : i + 1, : int(mask[i].sum())],
                          mask[i : i + 1, : int(mask[i].sum())])) for i in range(3)]
    assert float(loss(scores, labels, mask)) == pytest.approx(sum(per_row) / 3, rel=1e-6)


def test_all_padding_gives_zero_with_a_graph() -> None:
    scores = torch.zeros((2, 3), requires_grad=True)
    mask = torch.zeros((2, 3), dtype=torch.bool)
    for cls, _ in LIST_LOSSES:
        out = cls(ONE)(scores, torch.zeros((2, 3)), mask)
        assert out.detach().item() == 0.0 and out.requires_grad


def test_list_shape_errors() -> None:
    loss = cr.ListNetLoss(ONE)
    with pytest.raises(ValueError, match=r"labels shape \(1, 2\) differs from scores shape \(1, 3\); each document"):
        loss(torch.zeros((1, 3)), torch.zeros((1, 2)), torch.ones((1, 3), dtype=torch.bool))
    with pytest.raises(ValueError, match=r"expects scores of shape \(batch, documents\); found shape \(1, 3, 2\)"):
        loss(torch.zeros((1, 3, 2)), torch.zeros((1, 3)), torch.ones((1, 3), dtype=torch.bool))
    with pytest.raises(ValueError, match=r"^ListNetLoss needs a label column"):
        loss(torch.zeros((1, 3)), None, torch.ones((1, 3), dtype=torch.bool))


@pytest.mark.parametrize(("cls", "kwargs"), LIST_LOSSES[:1] + LIST_LOSSES[4:])
def test_bf16_scores_are_upcast(cls: type, kwargs: dict[str, Any]) -> None:
    scores, labels, mask = _ragged(2)
    low = scores.bfloat16().requires_grad_()
    out = cls(ONE, **kwargs)(low, labels, mask)
    (grad,) = torch.autograd.grad(out, low)
    assert out.dtype == torch.float32 and grad.dtype == torch.bfloat16
    reference = cls(ONE, **kwargs)(low.detach().float(), labels, mask)
    assert out.detach().item() == pytest.approx(reference.item(), rel=1e-6)


# --- in-batch ----------------------------------------------------------------------------------------


def test_mnrl_exact() -> None:
    assert value(cr.MultipleNegativesRankingLoss(ONE), t([[0.0, 0.0]]), None) == pytest.approx(LOG2)
    plain = cr.MultipleNegativesRankingLoss(ONE, scale=1.0, activation_fn=None)
    assert value(plain, t([[1.0, 0.0, 0.0]]), None) == pytest.approx(-1.0 + math.log(math.e + 2.0))


def test_mnrl_grid_uses_only_other_rows() -> None:
    rows = [{"q": f"q{i}", "pos": f"p{i}", "neg": f"n{i}"} for i in range(3)]
    every = cr.MultipleNegativesRankingLoss(ONE, num_negatives=None).build_grid(rows, ["q", "pos", "neg"], None)
    assert every.queries == ["q0", "q1", "q2"]
    assert every.documents[0] == ["p0", "p1", "p2", "n1", "n2", "n0"]
    assert every.documents[1] == ["p1", "p0", "p2", "n0", "n2", "n1"]
    assert every.mask.shape == (3, 6) and bool(every.mask.all()) and every.labels is None
    torch.manual_seed(0)
    sampled = cr.MultipleNegativesRankingLoss(ONE, num_negatives=2).build_grid(rows, ["q", "pos", "neg"], None)
    for i, docs in enumerate(sampled.documents):
        assert len(docs) == 4 and docs[0] == f"p{i}" and docs[-1] == f"n{i}"
        assert all(not d.endswith(str(i)) for d in docs[1:3]) and len(set(docs[1:3])) == 2


def test_mnrl_errors_and_config() -> None:
    with pytest.raises(ValueError, match=r"needs \(query, positive\[, negative_1, \.\.\.\]\) columns; found \['q'\]"):
        cr.MultipleNegativesRankingLoss(ONE).build_grid([{"q": "a"}], ["q"], None)
    with pytest.raises(ValueError, match=r"mini_batch_size must be a positive number of pairs; found 0"):
        cr.CachedMultipleNegativesRankingLoss(ONE, mini_batch_size=0)
    cached = cr.CachedMultipleNegativesRankingLoss(ONE, mini_batch_size=8)
    assert cached.get_config_dict() == {
        "scale": 10.0, "num_negatives": 4, "activation_fn": "torch.nn.modules.activation.Sigmoid",
        "mini_batch_size": 8,
    }
    assert cached.input_format == "in_batch" and cached.needs_labels is False


def test_declared_formats() -> None:
    formats = {name: getattr(cr, name).input_format for name in cr.__all__ if name.endswith("Loss")}
    assert formats["BinaryCrossEntropyLoss"] == formats["CrossEntropyLoss"] == formats["MSELoss"] == "pair"
    assert formats["MarginMSELoss"] == "tuple"
    assert {formats[n] for n in ("LambdaLoss", "RankNetLoss", "ListNetLoss", "ListMLELoss", "PListMLELoss",
                                 "ADRMSELoss")} == {"list"}
    assert cr.CrossEntropyLoss.num_labels is None and cr.LambdaLoss.num_labels == 1


# --- helpers -----------------------------------------------------------------------------------------


def test_helpers() -> None:
    mask = torch.tensor([[False, True, True], [False, False, False]])
    assert float(masked_mean(t([[100.0, 1.0, 3.0], [7.0, 7.0, 7.0]]), mask)) == 2.0
    out = masked_log_softmax(t([[50.0, 0.0, 0.0], [1.0, 2.0, 3.0]]), mask)
    assert torch.allclose(out, t([[0.0, -LOG2, -LOG2], [0.0, 0.0, 0.0]]))
    order = compact_valid_first(torch.tensor([[False, True, False, True]]))
    assert order[0, :2].tolist() == [1, 3]
