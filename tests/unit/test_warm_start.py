"""Warm start: pseudo-queries, teacher lists with scores, the stage on a tiny model, the residual loss."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from crossrank.warm_start import (
    BM25Teacher,
    HybridTeacher,
    TeacherScorer,
    WarmStartConfig,
    build_teacher_lists,
    make_pseudo_queries,
    teacher_targets,
    training_queries,
    warm_start,
)
from crossrank.warm_start.distill import heldout_split, mean_loss
from crossrank.warm_start.lists import lists_to_dataset, lists_to_tuples
from crossrank.warm_start.residual import ResidualLoss, with_first_stage

CORPUS = [
    "paris is the capital city of france and its largest city",
    "the river in paris is known as the seine river of france",
    "a cat is a small animal and a dog is a big animal",
    "the sun is a star and the moon is not a star at all",
    "the earth is a planet and water covers most of the earth",
    "music and film and book and song were made by people",
    "the king and the queen of the country were born in the city",
    "an apple is a food that grows on a tree in the country",
    "science and physics and math are known by a computer",
    "the first war of the old country was the largest war",
    "who was the author of the first book about the moon",
    "the new film is called the river and it is a big movie",
]


class OverlapTeacher:
    """Scores a document by the number of distinct query words it contains (deterministic, no model)."""

    name = "overlap"

    def index(self, corpus: Sequence[str]) -> None:
        self.corpus = [set(d.split()) for d in corpus]

    def score(self, queries: Sequence[str], candidates: Sequence[Sequence[int]]) -> list[np.ndarray]:
        return [np.array([len(set(q.split()) & self.corpus[i]) + 0.01 * i for i in c], dtype=np.float32)
                for q, c in zip(queries, candidates)]

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        out = []
        for scores in self.score(queries, [range(len(self.corpus))] * len(queries)):
            order = np.argsort(-scores, kind="stable")[:k]
            out.append([(int(i), float(scores[i])) for i in order])
        return out


# ---------------------------------------------------------------- pseudo-queries
def test_pseudo_queries_are_deterministic_spans_never_equal_to_their_source() -> None:
    first = make_pseudo_queries(CORPUS, 10, seed=3, min_words=3, max_words=5)
    assert first == make_pseudo_queries(CORPUS, 10, seed=3, min_words=3, max_words=5)
    assert [q.text for q in first] != [q.text for q in make_pseudo_queries(CORPUS, 10, seed=4, min_words=3,
                                                                             max_words=5)]
    assert len(first) == 10 and len({q.source for q in first}) == 10
    for query in first:
        words = query.text.split()
        assert 3 <= len(words) <= 5 and query.kind == "span"
        assert query.text != CORPUS[query.source] and query.text in CORPUS[query.source]


def test_a_document_no_longer_than_the_span_gives_no_query() -> None:
    corpus = ["one two three", "one two three four five six seven"]
    made = make_pseudo_queries(corpus, 5, seed=0, min_words=3, max_words=9)
    assert [q.source for q in made] == [1]
    assert made[0].text != corpus[1] and 3 <= len(made[0].text.split()) <= 6


def test_a_window_keeps_spans_inside_the_first_words() -> None:
    words = [f"w{i}" for i in range(200)]
    corpus = [" ".join(words[i:] + words[:i]) for i in range(0, 200, 10)]
    made = make_pseudo_queries(corpus, 20, seed=5, min_words=3, max_words=5, window=12)
    assert len(made) == 20
    for query in made:
        first = corpus[query.source].split()[:12]
        assert " ".join(first).find(query.text) >= 0
    anywhere = make_pseudo_queries(corpus, 20, seed=5, min_words=3, max_words=5)
    assert any(corpus[q.source].find(q.text) > len(" ".join(corpus[q.source].split()[:12])) for q in anywhere)


def test_more_passes_give_a_small_corpus_more_spans_each_distinct() -> None:
    corpus = ["one two three", "a b c d e f g h i j k l m n o p", "q r s t u v w x y z aa bb cc dd"]
    once = make_pseudo_queries(corpus, 10, seed=2, min_words=3, max_words=4)
    assert sorted(q.source for q in once) == [1, 2]
    thrice = make_pseudo_queries(corpus, 10, seed=2, min_words=3, max_words=4, passes=3)
    assert thrice[:2] == once and len(thrice) == 6 and sorted(q.source for q in thrice) == [1, 1, 1, 2, 2, 2]
    assert len({q.text for q in thrice}) == 6 and all(q.text in corpus[q.source] for q in thrice)
    assert len(make_pseudo_queries(corpus, 4, seed=2, min_words=3, max_words=4, passes=3)) == 4
    with pytest.raises(ValueError, match=re.escape("passes must be 1 or more; found 0.")):
        make_pseudo_queries(corpus, 4, passes=0)


def test_the_span_window_follows_max_length() -> None:
    assert WarmStartConfig(max_length=128).span_window() == 84
    assert WarmStartConfig(max_length=16, max_words=9).span_window() == 10
    assert WarmStartConfig(visible_spans=False).span_window() is None


def test_titles_and_excluded_texts() -> None:
    titles = ["Paris", None, "Cats and dogs"] + [None] * 9
    made = make_pseudo_queries(CORPUS, 12, seed=0, min_words=3, max_words=4, titles=titles, title_share=1.0)
    assert {q.text for q in made if q.kind == "title"} == {"Paris", "Cats and dogs"}
    exclude = [q.text for q in make_pseudo_queries(CORPUS, 3, seed=0, min_words=3, max_words=4)]
    again = make_pseudo_queries(CORPUS, 12, seed=0, min_words=3, max_words=4, exclude=exclude)
    assert not set(exclude) & {q.text for q in again}


def test_training_queries_put_the_users_first_and_fill_with_pseudo_queries() -> None:
    config = WarmStartConfig(num_lists=5, min_words=3, max_words=4, seed=1)
    texts, own = training_queries(["where is paris", "where is paris", "  ", "who wrote the book"], CORPUS, config)
    assert own == 2 and texts[:2] == ["where is paris", "who wrote the book"] and len(texts) == 5


@pytest.mark.parametrize("kwargs, message", [
    ({"count": -1}, "count must be 0 or more"),
    ({"count": 1, "min_words": 4, "max_words": 3}, "need 1 <= min_words <= max_words"),
    ({"count": 1, "title_share": 2.0}, "title_share must be in [0, 1]"),
    ({"count": 1, "min_words": 4, "window": 3}, "window must be at least min_words (4); found 3"),
])
def test_pseudo_query_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_pseudo_queries(CORPUS, **kwargs)


# ---------------------------------------------------------------- teacher lists
def test_every_candidate_carries_its_teacher_score() -> None:
    teacher = OverlapTeacher()
    teacher.index(CORPUS)
    queries = ["paris river france", "star moon sun", "king queen country"]
    lists = build_teacher_lists(queries, teacher, top_k=3, sampled=2, depth=8, seed=0)
    assert [x.query for x in lists] == queries
    for item in lists:
        assert len(item.documents) == 5 and len(set(item.documents)) == 5
        expected = teacher.score([item.query], [item.documents])[0]
        np.testing.assert_allclose(item.teacher_scores, expected, rtol=1e-6)
        ranked = [i for i, _ in teacher.retrieve([item.query], 8)[0]]
        assert item.documents[:3] == ranked[:3] and set(item.documents[3:]) <= set(ranked[3:])
    data = lists_to_dataset(lists, CORPUS, scale=2.0)
    assert data.column_names == ["query", "documents", "labels"]
    assert data[0]["documents"] == [CORPUS[i] for i in lists[0].documents]
    np.testing.assert_allclose(data[0]["labels"], teacher_targets(lists[0].teacher_scores, 2.0), rtol=1e-6)
    z = np.asarray(teacher_targets([1.0, 2.0, 3.0], 2.0))
    np.testing.assert_allclose(z, 2.0 * (np.array([1.0, 2.0, 3.0]) - 2.0) / np.std([1.0, 2.0, 3.0]))
    tuples = lists_to_tuples(lists, CORPUS, scale=1.0)
    assert tuples.column_names == ["query", *(f"document_{i}" for i in range(5)), "labels"]


def test_list_options_are_checked() -> None:
    with pytest.raises(ValueError, match=r"depth \(4\) must be at least top_k \+ sampled \(5\)"):
        build_teacher_lists(["q"], OverlapTeacher(), top_k=3, sampled=2, depth=4)


def test_bm25_and_hybrid_teachers_score_what_they_retrieve() -> None:
    pytest.importorskip("bm25s")
    bm25 = BM25Teacher()
    bm25.index(CORPUS)
    hits = bm25.retrieve(["paris france river"], 4)[0]
    assert hits[0][0] in (0, 1) and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    np.testing.assert_allclose(bm25.score(["paris france river"], [[i for i, _ in hits]])[0],
                               [s for _, s in hits], rtol=1e-6)
    dense = OverlapTeacher()
    hybrid = HybridTeacher(dense, bm25, weight=0.25)
    hybrid.index(CORPUS)
    candidates = [i for i, _ in hybrid.retrieve(["paris france river"], 5)[0]]
    d = dense.score(["paris france river"], [candidates])[0]
    s = bm25.score(["paris france river"], [candidates])[0]
    expected = 0.75 * (d - d.mean()) / d.std() + 0.25 * (s - s.mean()) / s.std()
    np.testing.assert_allclose(hybrid.score(["paris france river"], [candidates])[0], expected, rtol=1e-5)


def test_teacher_scorer_follows_the_pair_order_and_rejects_unknown_documents() -> None:
    teacher = OverlapTeacher()
    teacher.index(CORPUS)
    scorer = TeacherScorer(teacher, CORPUS)
    pairs = [("paris", CORPUS[0]), ("paris", CORPUS[2]), ("cat", CORPUS[2])]
    np.testing.assert_allclose(scorer.predict(pairs), [1.0, 0.02, 1.02], rtol=1e-6)
    with pytest.raises(ValueError, match="the teacher can only score documents of its corpus and cannot add"):
        scorer.predict([("paris", "not in the corpus")])


def test_teacher_scorer_adds_documents_outside_the_corpus_to_the_index() -> None:
    pytest.importorskip("bm25s")
    bm25 = BM25Teacher()
    bm25.index(CORPUS[:6])
    scorer = TeacherScorer(bm25, CORPUS[:6])
    scores = scorer.predict([("king queen", CORPUS[6]), ("king queen", CORPUS[0])])
    full = BM25Teacher()
    full.index(CORPUS[:7])
    np.testing.assert_allclose(scores, full.score(["king queen"], [[6, 0]])[0], rtol=1e-6)
    assert scores[0] > 0 and scores[1] == 0


# ---------------------------------------------------------------- the stage
@pytest.fixture(autouse=True)
def _one_thread() -> object:
    """One torch thread: on a shared 2-core machine, tiny models train many times faster so."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tiny_model(tiny_bert: Path):
    """The tiny BERT with a tokenizer that knows its vocabulary.

    ``BertTokenizerFast(vocab_file=...)`` in the shared fixture is ignored by transformers 5 (the argument is
    ``vocab``), so the fixture's tokenizer maps every word to [UNK]; these tests need real tokens.
    """
    from transformers import BertTokenizerFast

    from crossrank import CrossEncoder

    BertTokenizerFast(vocab=str(tiny_bert / "vocab.txt"), do_lower_case=True).save_pretrained(tiny_bert)
    torch.manual_seed(0)
    return CrossEncoder(str(tiny_bert), num_labels=1, max_length=48, device="cpu")


def test_warm_start_reduces_the_distillation_loss(tiny_bert: Path) -> None:
    from crossrank.losses import ListNetLoss

    config = WarmStartConfig(num_lists=24, min_words=3, max_words=5, top_k=3, sampled=2, depth=8, epochs=20,
                             batch_size=4, learning_rate=5e-3, head_learning_rate=1e-2, max_length=48, seed=0,
                             span_passes=1)
    model = _tiny_model(tiny_bert)
    teacher = OverlapTeacher()
    texts, _ = training_queries(["where is paris", "what is a star"], CORPUS, config)
    teacher.index(CORPUS)
    lists, _ = heldout_split(build_teacher_lists(texts, teacher, 3, 2, 8, 0), 64, 0)
    data = lists_to_dataset(lists, CORPUS, config.target_scale)
    loss = ListNetLoss(model)
    before = mean_loss(model, loss, data, 48)
    report = warm_start(model, ["where is paris", "what is a star"], CORPUS, teacher=teacher, config=config)
    after = mean_loss(model, loss, data, 48)
    assert before == pytest.approx(np.log(5), abs=1e-3) and after < before - 0.5
    assert report.lists == len(data) == 13 and report.user_queries == 2 and report.pseudo_queries == 11
    assert report.pairs == 13 * 5 and report.steps == report.planned_steps == 65 and not report.stopped_by_budget
    assert report.heldout_loss_before is not None and report.heldout_loss_after is not None
    assert report.teacher == "overlap" and "Warm start from overlap: 13 lists" in report.summary()
    assert model.max_length == 48 and not model.model.training


def test_warm_start_stops_at_its_time_budget_and_reports_dev_metrics(tiny_bert: Path) -> None:
    from crossrank.evaluation import RerankingEvaluator

    config = WarmStartConfig(num_lists=12, min_words=3, max_words=5, top_k=3, sampled=1, depth=6, epochs=50,
                             batch_size=2, max_length=48, budget_s=0.001, seed=0)
    dev = RerankingEvaluator([{"query": "paris france", "positive": [CORPUS[0]], "negative": CORPUS[2:5]}],
                             name="dev", write_csv=False)
    teacher = OverlapTeacher()
    report = warm_start(_tiny_model(tiny_bert), [], CORPUS, teacher=teacher, config=config, evaluator=dev,
                        heldout_lists=0)
    assert report.stopped_by_budget and report.steps == 1 and report.planned_steps == 300
    assert report.heldout_loss_before is None
    assert report.teacher_metrics is not None and report.teacher_metrics["dev_map"] == 1.0
    assert report.student_metrics is not None and set(report.student_metrics) >= {"dev_map", "dev_ndcg@10"}


def test_warm_start_rejects_bad_inputs(tiny_bert: Path) -> None:
    with pytest.raises(ValueError, match="corpus document 1 is not a non-empty string"):
        warm_start(_tiny_model(tiny_bert), [], ["a doc", " "], teacher=OverlapTeacher())
    with pytest.raises(ValueError, match=r"unknown warm_start option\(s\) \['epoch'\]"):
        WarmStartConfig.from_dict({"epoch": 1})
    with pytest.raises(ValueError, match="WarmStartConfig: teacher must be embedder, bm25 or hybrid"):
        WarmStartConfig(teacher="dense")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("WarmStartConfig: span_passes must be at least 1; found 0.")):
        WarmStartConfig(span_passes=0)


# ---------------------------------------------------------------- residual loss
def test_residual_loss_is_the_base_loss_of_shifted_scores(tiny_bert: Path) -> None:
    from datasets import Dataset

    from crossrank.losses import ListNetLoss

    model = _tiny_model(tiny_bert)
    data = Dataset.from_dict({"query": ["q1", "q2"], "documents": [["a", "b", "c"], ["d", "e"]],
                              "labels": [[1.0, 0.0, 0.0], [0.0, 1.0]]})
    packed = with_first_stage(data, [[3.0, 2.0, 1.0], [5.0, 5.0]])
    assert packed[0]["labels"][:3] == [1.0, 0.0, 0.0]
    np.testing.assert_allclose(packed[0]["labels"][3:], [1.2247449, 0.0, -1.2247449], rtol=1e-6)
    assert packed[1]["labels"][2:] == [0.0, 0.0]
    base = ListNetLoss(model)
    loss = ResidualLoss(model, base, weight=0.5)
    grid = loss.build_grid([packed[0], packed[1]], ["query", "documents"], "labels")
    scores = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.0]])
    shift = 0.5 * grid.labels[..., 1]
    expected = base(scores + shift, grid.labels[..., 0], grid.mask)
    torch.testing.assert_close(loss(scores, grid.labels, grid.mask), expected)
    with pytest.raises(ValueError, match="row 0: 3 labels but 2 first-stage scores"):
        with_first_stage(data, [[1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="row 0: 3 documents need 6 labels"):
        loss.build_grid([data[0]], ["query", "documents"], "labels")


def test_residual_loss_trains_through_the_trainer(tiny_bert: Path, tmp_path: Path) -> None:
    """The collator builds the batch with the loss's own grid, so the packed first-stage scores reach the loss."""
    from datasets import Dataset

    from crossrank import Trainer
    from crossrank.losses import ListNetLoss
    from crossrank.training.args import TrainingArguments

    model = _tiny_model(tiny_bert)
    data = Dataset.from_dict({"query": ["q1", "q2"], "documents": [["a", "b", "c"], ["d", "e", "f"]],
                              "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]})
    packed = with_first_stage(data, [[3.0, 2.0, 1.0], [1.0, 5.0, 2.0]])
    seen: list[tuple[int, ...]] = []
    loss = ResidualLoss(model, ListNetLoss(model), weight=1.0)
    original = loss.compute
    loss.compute = lambda s, y, m: (seen.append(tuple(y.shape)), original(s, y, m))[1]  # type: ignore[method-assign]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2,
                             save_strategy="no", report_to=[], disable_tqdm=True)
    Trainer(model, args, train_dataset=packed, loss=loss).train()
    assert seen == [(2, 3, 2), (2, 3, 2)]


def test_head_fit_is_applied_only_when_it_predicts_unseen_lists(tiny_bert: Path) -> None:
    from crossrank.losses import ListNetLoss
    from crossrank.warm_start.head_init import dropout_ridge, fit_head, output_layer

    model = _tiny_model(tiny_bert)
    teacher = OverlapTeacher()
    teacher.index(CORPUS)
    queries = [q.text for q in make_pseudo_queries(CORPUS, 12, seed=0, min_words=3, max_words=5)]
    data = lists_to_dataset(build_teacher_lists(queries, teacher, 3, 2, 8, 0), CORPUS, 2.0)
    untouched = model.model.classifier.weight.detach().clone()
    fresh = fit_head(model, data, 48)  # a random tiny encoder: its features carry no order
    assert fresh["applied"] == 0.0 and fresh["heldout_r2"] <= 0.0 and fresh["pairs"] == 60
    assert torch.equal(model.model.classifier.weight, untouched)
    config = WarmStartConfig(num_lists=24, min_words=3, max_words=5, top_k=3, sampled=2, depth=8, epochs=20,
                             batch_size=4, learning_rate=5e-3, head_learning_rate=1e-2, max_length=48, seed=0,
                             head_init=False)
    warm_start(model, [], CORPUS, teacher=teacher, config=config, heldout_lists=0)
    torch.nn.init.normal_(model.model.classifier.weight, std=0.02)
    loss = ListNetLoss(model)
    before = mean_loss(model, loss, data, 48)
    trained = fit_head(model, data, 48)  # trained features: the fit predicts held-out lists
    assert trained["applied"] == 1.0 and trained["heldout_r2"] > 0.0 and 0.0 < trained["r2"] <= 1.0
    assert mean_loss(model, loss, data, 48) < before
    assert output_layer(model.model) is model.model.classifier and float(model.model.classifier.bias) == 0.0
    assert dropout_ridge(model) == pytest.approx(0.1 / 0.9)


def test_budget_schedule_warms_up_decays_and_follows_the_slower_clock() -> None:
    from types import SimpleNamespace

    from crossrank.warm_start.budget import BudgetSchedule

    schedule = BudgetSchedule(None, warmup_ratio=0.1)
    assert schedule.factor(0.05) == pytest.approx(0.51) and schedule.factor(0.1) == pytest.approx(1.0)
    assert schedule.factor(0.55) == pytest.approx(0.5) and schedule.factor(1.0) == 0.0
    assert schedule.progress(SimpleNamespace(global_step=25, max_steps=100)) == 0.25
    optimizer = SimpleNamespace(param_groups=[{"lr": 1e-3}, {"lr": 5e-5}])
    schedule.on_step_begin(None, SimpleNamespace(global_step=55, max_steps=100), None, optimizer=optimizer)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([5e-4, 2.5e-5])
    timed = BudgetSchedule(10.0, warmup_ratio=0.1)
    timed.started -= 8.0  # 80% of the budget spent at step 10 of 100: time leads
    assert timed.progress(SimpleNamespace(global_step=10, max_steps=100)) == pytest.approx(0.8, abs=0.01)
