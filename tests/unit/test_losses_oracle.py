"""Oracle: every crossrank loss gives the reference's value and gradient for the same logits and labels.

The reference losses score pairs themselves, so they get a fake model that looks each (query, document)
pair up in one leaf tensor of logits; crossrank gets a (B, G) grid gathered from the same leaf. Values
and the gradients w.r.t. the leaf must agree to 1e-5, ragged lists included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

st_losses = pytest.importorskip("sentence_transformers.cross_encoder.losses")
from sentence_transformers.cross_encoder import CrossEncoder as RefCrossEncoder  # noqa: E402

from crossrank import losses as cr  # noqa: E402

pytestmark = pytest.mark.oracle
TOL = 1e-5


class PairTable(RefCrossEncoder):
    """A stand-in for the reference CrossEncoder: the logit of a pair is a cell of ``leaf``."""

    def __init__(self, pairs: list[tuple[str, str]], num_labels: int = 1, seed: int = 0) -> None:
        nn.Sequential.__init__(self)
        generator = torch.Generator().manual_seed(seed)
        self.index = {pair: i for i, pair in enumerate(dict.fromkeys(pairs))}
        shape = (len(self.index), num_labels) if num_labels > 1 else (len(self.index),)
        object.__setattr__(self, "leaf", (torch.randn(shape, generator=generator) * 2).requires_grad_())
        object.__setattr__(self, "_labels", num_labels)

    @property
    def num_labels(self) -> int:
        return self._labels

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def preprocess(self, pairs: list[tuple[str, str]], prompt: str | None = None, task: str | None = None) -> dict:
        return {"idx": torch.tensor([self.index[tuple(p)] for p in pairs], dtype=torch.long)}

    def forward(self, features: dict[str, Tensor], **kwargs: Any) -> dict[str, Tensor]:
        logits = self.leaf[features["idx"]]
        return {"scores": logits if logits.dim() == 2 else logits.unsqueeze(1)}

    def grid(self, queries: list[str], documents: list[list[str]]) -> tuple[Tensor, Tensor]:
        """(B, G) scores (or (B, G, C)) gathered from the leaf, and the mask; padding cells get 123.0."""
        width = max(len(d) for d in documents)
        idx = torch.zeros((len(queries), width), dtype=torch.long)
        mask = torch.zeros((len(queries), width), dtype=torch.bool)
        for b, (q, docs) in enumerate(zip(queries, documents)):
            for g, d in enumerate(docs):
                idx[b, g], mask[b, g] = self.index[(q, d)], True
        scores = self.leaf[idx]
        fill = mask if scores.dim() == 2 else mask.unsqueeze(-1)
        return scores.masked_fill(~fill, 123.0), mask


def _compare(model: PairTable, run_ref: Callable[[], Tensor], run_ours: Callable[[], Tensor]) -> None:
    ref = run_ref()
    (ref_grad,) = torch.autograd.grad(ref, model.leaf)
    ours = run_ours()
    (our_grad,) = torch.autograd.grad(ours, model.leaf)
    assert torch.allclose(ours, ref, atol=TOL, rtol=TOL), (ours.item(), ref.item())
    assert torch.allclose(our_grad, ref_grad, atol=TOL, rtol=TOL), (our_grad, ref_grad)


def _list_batch(lengths: list[int], seed: int, graded: bool = True) -> tuple[list[str], list[list[str]], list[Tensor]]:
    generator = torch.Generator().manual_seed(seed + 100)
    queries = [f"q{b}" for b in range(len(lengths))]
    documents = [[f"d{b}_{g}" for g in range(n)] for b, n in enumerate(lengths)]
    if graded:
        labels = [torch.randint(0, 4, (n,), generator=generator).float() for n in lengths]
    else:
        labels = [torch.rand(n, generator=generator) for n in lengths]
    return queries, documents, labels


def _list_case(
    ref_cls: type, our_cls: type, kwargs: dict[str, Any], lengths: list[int], seed: int, graded: bool = True
) -> None:
    queries, documents, labels = _list_batch(lengths, seed, graded)
    model = PairTable([(q, d) for q, docs in zip(queries, documents) for d in docs], seed=seed)
    ref_loss = ref_cls(model, **kwargs)
    our_loss = our_cls(model, **kwargs)

    def ours() -> Tensor:
        scores, mask = model.grid(queries, documents)
        grid_labels = torch.zeros(mask.shape)
        for b, lab in enumerate(labels):
            grid_labels[b, : len(lab)] = lab
        return our_loss(scores, grid_labels, mask)

    _compare(model, lambda: ref_loss([queries, documents], labels), ours)


LENGTHS = [[4, 4, 4], [5, 2, 3, 1], [7, 3, 6]]
SCHEMES = ["NoWeightingScheme", "NDCGLoss1Scheme", "NDCGLoss2Scheme", "LambdaRankScheme", "NDCGLoss2PPScheme"]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("extra", [{}, {"k": 2, "sigma": 0.7, "reduction_log": "natural"}])
def test_lambda_loss(lengths: list[int], scheme: str, extra: dict[str, Any]) -> None:
    for seed, graded in [(0, True), (1, False)]:
        queries, documents, labels = _list_batch(lengths, seed, graded)
        model = PairTable([(q, d) for q, docs in zip(queries, documents) for d in docs], seed=seed)
        ref_loss = st_losses.LambdaLoss(model, weighting_scheme=getattr(st_losses, scheme)(), **extra)
        our_loss = cr.LambdaLoss(model, weighting_scheme=getattr(cr, scheme)(), **extra)

        def ours(queries=queries, documents=documents, labels=labels, model=model, our_loss=our_loss) -> Tensor:
            scores, mask = model.grid(queries, documents)
            grid = torch.zeros(mask.shape)
            for b, lab in enumerate(labels):
                grid[b, : len(lab)] = lab
            return our_loss(scores, grid, mask)

        ref_run = (lambda r=ref_loss, q=queries, d=documents, lab=labels: r([q, d], lab))  # noqa: E731
        _compare(model, ref_run, ours)


LIST_LOSSES = [
    ("RankNetLoss", {}),
    ("RankNetLoss", {"k": 3, "sigma": 2.0}),
    ("ListNetLoss", {}),
    ("ListNetLoss", {"activation_fn": nn.Sigmoid()}),
    ("ListMLELoss", {}),
    ("ListMLELoss", {"respect_input_order": False}),
    ("PListMLELoss", {}),
    ("PListMLELoss", {"respect_input_order": False}),
    ("ADRMSELoss", {}),
    ("ADRMSELoss", {"alpha": 3.0, "activation_fn": nn.Tanh()}),
]


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize(("name", "kwargs"), LIST_LOSSES)
def test_list_losses(name: str, kwargs: dict[str, Any], lengths: list[int]) -> None:
    graded = not (name.endswith("MLELoss") and not kwargs.get("respect_input_order", True))
    # label ties make the reference's (unstable) label sort arbitrary, so sort-based ones use distinct labels
    _list_case(getattr(st_losses, name), getattr(cr, name), kwargs, lengths, seed=3, graded=graded)


def _pair_batch(n: int) -> tuple[list[str], list[str]]:
    return [f"q{i}" for i in range(n)], [f"d{i}" for i in range(n)]


@pytest.mark.parametrize(
    ("name", "kwargs", "make_labels"),
    [
        ("BinaryCrossEntropyLoss", {}, lambda g, n: torch.randint(0, 2, (n,), generator=g).float()),
        ("BinaryCrossEntropyLoss", {"pos_weight": torch.tensor(3.0)}, lambda g, n: torch.rand(n, generator=g)),
        ("MSELoss", {}, lambda g, n: torch.rand(n, generator=g)),
        ("MSELoss", {"activation_fn": nn.Sigmoid()}, lambda g, n: torch.rand(n, generator=g)),
    ],
)
def test_pointwise(name: str, kwargs: dict[str, Any], make_labels: Callable[[torch.Generator, int], Tensor]) -> None:
    queries, documents = _pair_batch(6)
    model = PairTable(list(zip(queries, documents)))
    labels = make_labels(torch.Generator().manual_seed(5), 6)
    ref_loss, our_loss = getattr(st_losses, name)(model, **kwargs), getattr(cr, name)(model, **kwargs)

    def ours() -> Tensor:
        scores, mask = model.grid(queries, [[d] for d in documents])
        return our_loss(scores, labels.view(-1, 1), mask)

    _compare(model, lambda: ref_loss([queries, documents], labels), ours)


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"activation_fn": nn.Tanh()}])
def test_cross_entropy(kwargs: dict[str, Any]) -> None:
    queries, documents = _pair_batch(5)
    model = PairTable(list(zip(queries, documents)), num_labels=3)
    labels = torch.tensor([0, 2, 1, 1, 0])
    ref_loss, our_loss = st_losses.CrossEntropyLoss(model, **kwargs), cr.CrossEntropyLoss(model, **kwargs)

    def ours() -> Tensor:
        scores, mask = model.grid(queries, [[d] for d in documents])
        return our_loss(scores, labels.float().view(-1, 1), mask)

    _compare(model, lambda: ref_loss([queries, documents], labels), ours)


MARGIN_CASES = [(1, "margins"), (1, "scores"), (1, "single"), (3, "margins"), (3, "scores")]


@pytest.mark.parametrize(("num_negatives", "label_kind"), MARGIN_CASES)
@pytest.mark.parametrize("activation", [None, nn.Sigmoid()])
def test_margin_mse(num_negatives: int, label_kind: str, activation: nn.Module | None) -> None:
    batch = 4
    queries = [f"q{i}" for i in range(batch)]
    columns = [[f"d{i}_{c}" for i in range(batch)] for c in range(num_negatives + 1)]
    documents = [[column[i] for column in columns] for i in range(batch)]
    model = PairTable([(q, d) for q, docs in zip(queries, documents) for d in docs], seed=7)
    generator = torch.Generator().manual_seed(8)
    width = {"margins": num_negatives, "scores": num_negatives + 1, "single": 1}[label_kind]
    labels = torch.randn((batch, width), generator=generator)
    if label_kind == "single":
        labels = labels.view(-1)
    kwargs = {} if activation is None else {"activation_fn": activation}
    ref_loss, our_loss = st_losses.MarginMSELoss(model, **kwargs), cr.MarginMSELoss(model, **kwargs)

    def ours() -> Tensor:
        scores, mask = model.grid(queries, documents)
        return our_loss(scores, labels, mask)

    _compare(model, lambda: ref_loss([queries, *columns], labels), ours)


@pytest.mark.parametrize("cls", ["MultipleNegativesRankingLoss", "CachedMultipleNegativesRankingLoss"])
@pytest.mark.parametrize(
    ("num_hard", "kwargs"),
    [(0, {}), (1, {}), (2, {"num_negatives": None}), (1, {"num_negatives": 2, "scale": 5.0, "activation_fn": None})],
)
def test_multiple_negatives(cls: str, num_hard: int, kwargs: dict[str, Any]) -> None:
    batch = 5
    rows = [{"q": f"q{i}", **{f"c{c}": f"d{i}_{c}" for c in range(num_hard + 1)}} for i in range(batch)]
    columns = [[row[f"c{c}"] for row in rows] for c in range(num_hard + 1)]
    queries = [row["q"] for row in rows]
    all_docs = [d for column in columns for d in column]
    model = PairTable([(q, d) for q in queries for d in all_docs], seed=11)
    if cls.startswith("Cached"):
        kwargs = {**kwargs, "mini_batch_size": 3}
    ref_loss, our_loss = getattr(st_losses, cls)(model, **kwargs), getattr(cr, cls)(model, **kwargs)

    def ref() -> Tensor:
        torch.manual_seed(42)
        return ref_loss([queries, *columns], None)

    def ours() -> Tensor:
        torch.manual_seed(42)
        grid = our_loss.build_grid(rows, ["q", *[f"c{c}" for c in range(num_hard + 1)]], None)
        scores, mask = model.grid(grid.queries, grid.documents)
        assert grid.mask.equal(mask)
        return our_loss(scores, None, mask)

    if cls.startswith("Cached"):
        # the reference's cached loss returns a detached value and pushes gradients into the model from a
        # backward hook (re-scoring mini-batches), so its gradient is read from the leaf after backward()
        ref_value = ref()
        ref_value.backward()
        ref_grad, model.leaf.grad = model.leaf.grad.clone(), None
        our_value = ours()
        (our_grad,) = torch.autograd.grad(our_value, model.leaf)
        assert torch.allclose(our_value, ref_value, atol=TOL)
        assert torch.allclose(our_grad, ref_grad, atol=TOL)
        assert our_loss.mini_batch_size == ref_loss.mini_batch_size
        return
    _compare(model, ref, ours)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("BinaryCrossEntropyLoss", {"pos_weight": torch.tensor(2.0)}),
        ("MSELoss", {}),
        ("MarginMSELoss", {}),
        ("LambdaLoss", {"k": 5}),
        ("RankNetLoss", {}),
        ("ListNetLoss", {"mini_batch_size": 8}),
        ("ListMLELoss", {"respect_input_order": False}),
        ("PListMLELoss", {}),
        ("ADRMSELoss", {"alpha": 2.0}),
        ("MultipleNegativesRankingLoss", {"num_negatives": 3}),
        ("CachedMultipleNegativesRankingLoss", {"mini_batch_size": 4}),
    ],
)
def test_config_dict_matches_reference(name: str, kwargs: dict[str, Any]) -> None:
    model = PairTable([("q", "d")])
    ref = getattr(st_losses, name)(model, **kwargs).get_config_dict()
    ours = getattr(cr, name)(model, **kwargs).get_config_dict()
    assert ours.keys() == ref.keys()
    for key, value in ref.items():
        if isinstance(value, str) and value.startswith("sentence_transformers."):
            assert ours[key].rsplit(".", 1)[-1] == value.rsplit(".", 1)[-1]
        else:
            assert ours[key] == value, key


def _grid_from_lists(model: PairTable, queries: list[str], documents: list[list[str]], labels: list[Tensor]):
    width = max(len(d) for d in documents)
    idx = torch.zeros((len(queries), width), dtype=torch.long)
    mask = torch.zeros((len(queries), width), dtype=torch.bool)
    grid_labels = torch.zeros((len(queries), width))
    for b, (q, docs) in enumerate(zip(queries, documents)):
        for g, d in enumerate(docs):
            idx[b, g], mask[b, g], grid_labels[b, g] = model.index[(q, d)], True, labels[b][g]
    return model.leaf[idx], grid_labels, mask


@pytest.mark.parametrize("name", ["ListMLELoss", "PListMLELoss", "ListNetLoss"])
def test_reference_differs_only_on_empty_lists(name: str) -> None:
    """Documented deviation: a list without documents (a row that is all padding) is no list at all.

    The reference counts it as a zero loss in the mean (ListMLE, PListMLE) or returns NaN (ListNet);
    crossrank averages over the real lists only. On the same ragged batch without the empty row both agree.
    """
    queries = ["q0", "q1", "q2"]
    documents = [["a", "b", "c"], [], ["e", "f"]]
    labels = [torch.tensor([2.0, 0.0, 1.0]), torch.tensor([]), torch.tensor([1.0, 0.0])]
    model = PairTable([(q, d) for q, docs in zip(queries, documents) for d in docs], seed=4)
    ref_loss, our_loss = getattr(st_losses, name)(model), getattr(cr, name)(model)
    with torch.no_grad():
        ref_value = ref_loss([queries, documents], labels)
        ours = our_loss(*_grid_from_lists(model, queries, documents, labels))
        keep = [0, 2]
        sub = ([queries[i] for i in keep], [documents[i] for i in keep], [labels[i] for i in keep])
        ref_without_empty = ref_loss([sub[0], sub[1]], sub[2])
    assert torch.allclose(ours, ref_without_empty, atol=TOL)
    if name == "ListNetLoss":
        assert torch.isnan(ref_value)
    else:
        assert torch.allclose(ref_value, ref_without_empty * 2 / 3, atol=TOL)
