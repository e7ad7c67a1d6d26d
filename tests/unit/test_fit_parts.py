"""fit's pure parts: list metrics with missed positives, the hybrid first stage, mining, sizing rules."""

from __future__ import annotations

import math

import pytest

from crossrank.fit.config import FitConfig
from crossrank.fit.first_stage import hybrid_run
from crossrank.fit.metrics import query_metrics
from crossrank.fit.mine import hard_negatives, mine, summary
from crossrank.fit.probe import Rates
from crossrank.fit.size import budget_plan, choose_loss, data_max_length, learning_rate, target_epochs


def test_missed_positives_count_as_not_found() -> None:
    judged = {"a": 1.0, "b": 1.0, "x": 0.0}
    full = query_metrics(["x", "a", "y"], None, judged, recall_k=3)
    assert full["mrr@10"] == 0.5
    assert full["recall@10"] == 0.5 and full["recall@3"] == 0.5
    assert full["map"] == pytest.approx(0.5 * 0.5)  # AP of the list (1/2) times the share found (1/2)
    ideal = 1.0 + 1.0 / math.log2(3)
    assert full["ndcg@10"] == pytest.approx((1.0 / math.log2(3)) / ideal)
    reranked = query_metrics(["x", "a", "y"], [0.1, 0.9, 0.0], judged, recall_k=3)
    assert reranked["mrr@10"] == 1.0 and reranked["ndcg@10"] == pytest.approx(1.0 / ideal)
    assert query_metrics([], None, judged, recall_k=3) == {"ndcg@10": 0.0, "mrr@10": 0.0, "map": 0.0,
                                                           "recall@10": 0.0, "recall@3": 0.0}


def test_hybrid_pools_both_lists_and_weights_them() -> None:
    bm25 = {"q": {"a": 10.0, "b": 5.0, "c": 1.0}}
    dense = {"q": {"c": 0.9, "d": 0.8, "a": 0.1}}
    assert list(hybrid_run(bm25, dense, 1.0, 4)["q"])[:2] == ["a", "b"]
    assert list(hybrid_run(bm25, dense, 0.0, 4)["q"])[0] == "c"
    assert set(hybrid_run(bm25, dense, 0.5, 10)["q"]) == {"a", "b", "c", "d"}


SMALL_COUNTS = {"documents": 1000, "queries": 300, "train": 200, "dev": 50, "test": 50}


def fake_probe(monkeypatch: pytest.MonkeyPatch, train: float, score: float, seconds: float) -> list[int]:
    """Replace the throughput probe with fixed rates; returns the lengths it is asked to measure."""
    import crossrank.fit.probe as probe

    asked: list[int] = []

    def measure(model: object, pairs: object, documents: object, max_length: int, embedder: object) -> Rates:
        asked.append(max_length)
        return Rates(max_length, train_pairs_per_s=train, score_pairs_per_s=score, embed_docs_per_s=None,
                     seconds=seconds)

    monkeypatch.setattr(probe, "measure", measure)
    return asked


def test_hard_negatives_keep_the_range_and_the_margin() -> None:
    docs = [f"d{i}" for i in range(8)]
    run = {"q": {f"d{i}": 10.0 - i for i in range(8)}}
    config = FitConfig(pairs=["x"], hard_range=(0, 6), margin=0.3, num_negatives=3, seed=1)
    picked, skipped = hard_negatives(run, ["q"], [[2]], docs, config, [3])
    assert len(picked[0]) == 3 and 2 not in picked[0]
    assert all(3 <= i < 6 for i in picked[0])  # d0, d1 score above the positive (margin); d6, d7 out of range
    assert skipped == {"absolute_margin": 2}


def test_mining_puts_no_empty_document_in_any_list() -> None:
    corpus = {f"d{i}": f"text {i}" for i in range(12)} | {"e0": "", "e1": "  "}
    qrels = {"q1": {"d0": 1, "e0": 1, "e1": 0}, "q2": {"e1": 1}}
    run = {"q1": {"e1": 9.0, "d0": 8.0, **{f"d{i}": 5.0 - i / 10 for i in range(1, 12)}}, "q2": {"e1": 1.0}}
    collection = {"qrels": qrels, "corpus": corpus, "queries": {"q1": "a", "q2": "b"}}
    config = FitConfig(pairs=["x"], hard_range=(0, 8), margin=0.0, num_negatives=3, random_negatives=6, seed=3)
    payload = mine(collection, {"train": ["q1", "q2"]}, run, config)
    assert [x["query_id"] for x in payload["lists"]] == ["q1"]  # q2's only relevant document is empty
    docs = payload["lists"][0]["documents"]
    assert docs[0] == "d0" and payload["lists"][0]["labels"][0] == 1.0 and not {"e0", "e1"} & set(docs)
    assert len(docs) == 1 + 3 + 6 and len(set(docs)) == len(docs)
    assert payload["empty"] == {"documents": 2, "positives": 2, "queries": 1}
    assert summary(payload).endswith("; 2 empty documents go into no list (2 of them judged relevant to train "
                                     "queries, 1 train queries left without a list)")


def test_sizing_rules() -> None:
    assert data_max_length([10] * 20 + [1000], 512) == 64
    assert data_max_length([300] * 10, 256) == 256
    assert choose_loss({"positives_per_query": {"mean": 1.2}}, "auto")[0] == "listnet"
    assert choose_loss({"positives_per_query": {"mean": 4.0}}, "auto")[0] == "listnet"  # binary labels
    assert choose_loss({"positives_per_query": {"mean": 4.0}}, "lambda") == ("lambda", "--loss")
    assert choose_loss({"positives_per_query": {"mean": 4.0}}, "bce") == ("bce", "--loss")
    assert (learning_rate(110, 1.0), learning_rate(800, 2.0), learning_rate(4000, 9.0)) == (1e-4, 5.7e-5, 3e-5)
    # log-linear from 1e-4 at 300 steps to the long rate at 1000: no jump when the step count moves a little
    many = [learning_rate(steps, 8.5) for steps in (300, 301, 574, 999, 1000, 5000)]
    assert many == [1e-4, 1e-4, 5.2e-5, 3e-5, 3e-5, 3e-5]
    assert learning_rate(2000, 3.0) == 5e-5
    assert target_epochs(700) == 9.0 and target_epochs(20000) == 1.0 and target_epochs(10) == 10.0


def test_budget_plan_puts_passes_before_length_then_refuses() -> None:
    counts = {"documents": 1000, "queries": 300, "train": 200, "dev": 50, "test": 50}
    rates = Rates(256, train_pairs_per_s=20.0, score_pairs_per_s=60.0, embed_docs_per_s=50.0, seconds=5.0)
    lengths = [400] * 100

    def plan_for(budget: str, epochs: float | None = None, warm: bool = False) -> dict:
        config = FitConfig(pairs=["x"], time_budget=budget, epochs=epochs)
        return budget_plan(counts, lengths, rates, config, 1.0, 9.0, 30.0, warm, 512)

    # 9 epochs wanted: no length above 128 trains them all in 9 minutes, so 128 tokens with every negative
    short = plan_for("9m")
    assert (short["max_length"], short["num_negatives"]) == (128, 7) and 6.2 < short["affordable_epochs"] < 6.3
    # 20 minutes: 192 tokens train all 9 (12.7) with the 7 negatives, 256 would not
    assert (plan_for("20m")["max_length"], plan_for("20m")["num_negatives"]) == (192, 7)
    # with --epochs 2 pinned (10 minutes), the longest length that trains two with every negative: 384 (512 needs
    # fewer)
    pinned = plan_for("10m", epochs=2.0)
    assert (pinned["max_length"], pinned["num_negatives"], pinned["train_pairs"]) == (384, 7, 200 * (1 + 7 + 1))
    assert pinned["affordable_epochs"] >= 2.0
    # the warm start's lists are costed at its own 128 tokens (400-token pairs: 3 times as fast as at 384);
    # 191 lists are too few to teach, so its time goes back to the supervised epochs and the plan is the same
    warm = plan_for("10m", epochs=2.0, warm=True)
    assert (warm["max_length"], warm["num_negatives"], warm["warm_lists_affordable"]) == (384, 7, 191)
    assert warm["warm_pairs_per_s"] == pytest.approx(3.0 * warm["train_pairs_per_s"])
    with pytest.raises(ValueError, match=r"the time budget of 1.0 min is too small for one epoch: 1000 training pairs"):
        plan_for("1m", warm=True)


def test_budget_plan_trains_fewer_negatives_before_refusing() -> None:
    counts = {"documents": 1000, "queries": 300, "train": 200, "dev": 50, "test": 50}
    rates = Rates(128, train_pairs_per_s=4.0, score_pairs_per_s=60.0, embed_docs_per_s=50.0, seconds=5.0)
    config = FitConfig(pairs=["x"], time_budget="11m", export="none")
    plan = budget_plan(counts, [100] * 100, rates, config, 1.0, 9.0, 0.0, True, 128)
    # 1,800 pairs (7 negatives) take 7.5 min, more than the 7.2 min the fixed costs leave of the 10.45 min
    # planned (95% of 11); 5 negatives (1,400 pairs, 5.8 min) fit one epoch, 3 (1,000 pairs, 4.2 min) fit 1.73:
    # no plan trains two, so the most epochs win
    assert (plan["num_negatives"], plan["train_pairs"]) == (3, 1000)
    assert 1.7 <= plan["affordable_epochs"] < 1.75
    # when the warm start's share buys too few lists to teach, its time goes back to the supervised epochs
    assert plan["warm_lists_affordable"] < 200 and plan["warm_pairs"] == 0


def test_warm_start_too_short_to_teach_is_skipped_with_the_reason() -> None:
    from crossrank.fit.size import WARM_LIST, WARM_MIN_LISTS, _warm_plan

    plan = {"warm_pairs": WARM_LIST * 11, "train_pairs_per_s": 6.0}
    short = _warm_plan(FitConfig(pairs=["x"], time_budget="30m"), True, plan, None)
    assert (short["enabled"], short["lists"]) == (False, 0)
    assert short["reason"].startswith(f"the budget leaves time for 11 warm-start lists after one supervised epoch "
                                      f"(fewer than {WARM_MIN_LISTS} cost more than they teach); a longer")
    pinned = _warm_plan(FitConfig(pairs=["x"], time_budget="30m", warm_start="on"), True, plan, None)
    assert (pinned["enabled"], pinned["lists"]) == (True, 11)


def test_rates_are_measured_again_at_a_shorter_planned_length(monkeypatch: pytest.MonkeyPatch) -> None:
    from crossrank.fit.size import _remeasured

    # shorter pairs train faster than length scaling says
    asked = fake_probe(monkeypatch, train=12.0, score=150.0, seconds=2.0)
    counts = dict(SMALL_COUNTS)
    rates = Rates(256, train_pairs_per_s=4.0, score_pairs_per_s=50.0, embed_docs_per_s=50.0, seconds=5.0)
    config = FitConfig(pairs=["x"], time_budget="20m", export="none")
    lengths = [400] * 100
    first = budget_plan(counts, lengths, rates, config, 1.0, 2.0, 0.0, False, 512)
    assert first["max_length"] == 192
    again, plan = _remeasured(None, [], lengths, rates, first, counts, config, 1.0, 2.0, 0.0, False, 512)
    assert asked == [192]
    assert (again.max_length, again.train_pairs_per_s, again.embed_docs_per_s, again.seconds) == (192, 12.0, 50.0, 7.0)
    # the faster measured rate buys more epochs at that length; longer ones are not tried on a scaled guess
    assert plan["max_length"] == 192 and plan["affordable_epochs"] > 1.3 * first["affordable_epochs"]
    # a plan at the probe's own length is not measured twice
    assert _remeasured(None, [], lengths, rates, {**first, "max_length": 256}, counts, config, 1.0, 2.0, 0.0,
                       False, 512)[0] == rates and asked == [192]


def test_auto_first_stage_keeps_bm25_alone_when_embedding_the_corpus_leaves_no_epoch() -> None:
    from crossrank.fit.size import _plan_or_lexical

    counts = {"documents": 20000, "queries": 300, "train": 200, "dev": 50, "test": 50}
    rates = Rates(128, train_pairs_per_s=20.0, score_pairs_per_s=60.0, embed_docs_per_s=20.0, seconds=5.0)
    config = FitConfig(pairs=["x"], time_budget="15m", export="none")
    chosen, plan = _plan_or_lexical(counts, [100] * 100, rates, config, 1.0, 9.0, 0.0, False, 128)
    assert chosen.first_stage == "bm25" and plan["affordable_epochs"] >= 1.0
    assert plan["first_stage_reason"].startswith(
        "embedding 20000 documents would take 16.9 min at the measured 20.0 documents/s and leave no time")
    # a pinned dense first stage is the user's choice: the budget error stands
    with pytest.raises(ValueError, match="too small for one epoch"):
        _plan_or_lexical(counts, [100] * 100, rates, FitConfig(pairs=["x"], time_budget="15m", export="none",
                                                                first_stage="dense"), 1.0, 9.0, 0.0, False, 128)
    # with time for both, auto keeps the dense stage
    roomy, _ = _plan_or_lexical(counts, [100] * 100, rates, FitConfig(pairs=["x"], time_budget="60m"), 1.0, 9.0, 0.0,
                                False, 128)
    assert roomy.first_stage == "auto"


def test_the_start_model_is_evaluated_at_the_planned_max_length() -> None:
    from types import SimpleNamespace

    from crossrank.fit.train import train_model

    class Stop(Exception):
        pass

    seen: list[int] = []

    def evaluator(model: SimpleNamespace) -> dict[str, float]:
        seen.append(model.max_length)  # the checkpoints are scored at the plan's length: the start must be too
        raise Stop

    evaluator.primary_metric = "dev_ndcg@10"  # type: ignore[attr-defined]
    model = SimpleNamespace(max_length=512)
    with pytest.raises(Stop):
        train_model(model, {}, [], {"max_length": 128, "loss": "listnet"}, evaluator, None, 0,  # type: ignore[arg-type]
                    fresh_head=True, deadline=None)
    assert seen == [128]


def test_queries_are_costed_at_their_own_embedding_rate() -> None:
    from crossrank.fit.size import embed_seconds

    counts = {"documents": 5000, "queries": 1000}
    both = Rates(128, 8.0, 30.0, embed_docs_per_s=20.0, seconds=1.0, embed_queries_per_s=200.0)
    assert embed_seconds(counts, both) == 5000 / 20.0 + 1000 / 200.0
    # an older plan without the query rate counts queries as documents; no dense stage costs nothing
    assert embed_seconds(counts, Rates(128, 8.0, 30.0, 20.0, 1.0)) == 6000 / 20.0
    assert embed_seconds(counts, Rates(128, 8.0, 30.0, None, 1.0)) == 0.0


def test_a_longer_planned_length_is_measured_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from crossrank.fit.size import _remeasured

    fake_probe(monkeypatch, train=2.0, score=20.0, seconds=9.0)  # slow at every length it is asked
    counts = dict(SMALL_COUNTS)
    rates = Rates(256, train_pairs_per_s=10.0, score_pairs_per_s=80.0, embed_docs_per_s=50.0, seconds=5.0)
    config = FitConfig(pairs=["x"], time_budget="20m", export="none")
    lengths = [400] * 100
    # two epochs wanted: a longer length is planned once it trains them with every negative
    first = budget_plan(counts, lengths, rates, config, 1.0, 2.0, 0.0, False, 512)
    assert first["max_length"] == 512  # scaled up linearly from 256 tokens: looks affordable
    again, plan = _remeasured(None, [], lengths, rates, first, counts, config, 1.0, 2.0, 0.0, False, 512)
    # measured at 512 the pairs train at 2/s, not the scaled 6.4/s; 320 (costed from 256) is measured next and
    # is as slow; the plan lands on 256 with the probe's own 256-token rates; every probe's time counts
    assert (again.max_length, again.train_pairs_per_s, again.seconds) == (256, 10.0, 5.0 + 9.0 + 9.0)
    assert plan["max_length"] == 256 and plan["affordable_epochs"] >= 1.0


def test_a_length_that_cuts_the_rerank_depth_under_20_comes_last() -> None:
    import crossrank.fit.size as size

    counts = {"documents": 5183, "queries": 1107, "train": 657, "dev": 150, "test": 300}
    measured = {256: Rates(256, 2.66, 15.2, 17.0, 30.0, 80.0), 192: Rates(192, 5.1, 21.1, 17.0, 0.0, 80.0)}
    config = FitConfig(pairs=["x"], time_budget="30m")
    plan = budget_plan(counts, [600] * 100, measured, config, 1.13, 10.0, 40.0, False, 512)
    # at 192 tokens scoring dev + test at depth 20 no longer fits its share: 128 tokens with depth 20 is kept
    assert (plan["max_length"], plan["depth"]) == (128, 20) and plan["affordable_epochs"] >= 1.0
    shallow = [p for p in (size._plan_at(counts, [600] * 100, measured[192], config, 192, 657 * 9, 40.0, False),)]
    assert shallow[0]["depth"] == 10


def test_the_warm_start_reads_the_non_empty_documents_in_id_order() -> None:
    from crossrank.fit.warm import warm_corpus

    # a BEIR corpus keeps its empty (judged) documents; the warm start, which refuses empty texts, skips them
    assert warm_corpus({"b": "second text", "a": "first text", "c": "  ", "d": ""}) == ["first text", "second text"]


@pytest.mark.parametrize(("measured", "kept"), [((3.0, 60.0), "auto"), ((2.0, 40.0), "bm25")])
def test_a_bm25_fallback_on_scaled_rates_is_tried_again_on_measured_ones(
        monkeypatch: pytest.MonkeyPatch, measured: tuple[float, float], kept: str) -> None:
    from crossrank.fit.size import _measured_plan

    # the probe at 256 tokens, scaled to 128, leaves no epoch beside embedding the corpus: BM25 alone; measured
    # at 128 the dense stage fits (first case) or still does not (second: BM25 alone, and the reason stays)
    asked = fake_probe(monkeypatch, train=measured[0], score=measured[1], seconds=2.0)
    counts = {"documents": 20000, "queries": 300, "train": 200, "dev": 50, "test": 50}
    probed = Rates(256, train_pairs_per_s=1.0, score_pairs_per_s=20.0, embed_docs_per_s=20.0, seconds=5.0)
    config = FitConfig(pairs=["x"], time_budget="30m", export="none")
    chosen, rates, plan = _measured_plan(None, [], [400] * 100, probed, counts, config, 1.0, 9.0, 0.0, False, 256)
    assert chosen.first_stage == kept and asked[0] == 128 and rates.embed_docs_per_s == 20.0
    assert plan["affordable_epochs"] >= 1.0 and rates.max_length == plan["max_length"]
    assert ("first_stage_reason" in plan) == (kept == "bm25")



def _sized(**over: object) -> dict:
    """A sizing payload costed at 15-document lists: 2 epochs of 10 lists at 10 pairs/s = 30 s of training."""
    return {"loss": "listnet", "epochs": 2.0, "want_epochs": 10.0, "list_size": 15.0, "batch_pairs": 32,
            "train_seconds": 30.0, "rates": {"train_pairs_per_s": 10.0}, "warm_start": {"enabled": False},
            "reasons": {"epochs": "planned", "learning_rate": "planned"}, **over}


def test_training_schedule_follows_the_mined_list_sizes() -> None:
    from crossrank.fit.size import fit_to_lists

    short = [{"documents": [str(i)] * 10} for i in range(10)]
    long = [{"documents": [str(i)] * 20} for i in range(10)]
    config = FitConfig(pairs=["x"], time_budget=600)
    got = fit_to_lists(_sized(), short, config)
    assert (got["epochs"], got["rows_per_step"], got["max_steps"], got["learning_rate"]) == (3.0, 3, 10, 1e-4)
    assert got["reasons"]["epochs"] == ("3 of the 10 epochs wanted fit the time budget (10.0 documents a mined "
                                        "list; the plan costed 15.0)")
    got = fit_to_lists(_sized(), long, config)
    assert (got["epochs"], got["rows_per_step"], got["max_steps"]) == (1.5, 1, 15)  # the budget is kept
    assert fit_to_lists(_sized(want_epochs=2.5), short, config)["epochs"] == 2.5  # never above the epochs wanted
    pinned = fit_to_lists(_sized(), short, FitConfig(pairs=["x"], time_budget=600, epochs=2.0, learning_rate=2e-5))
    assert (pinned["epochs"], pinned["max_steps"], pinned["learning_rate"]) == (2.0, 7, 2e-5)
    unbudgeted = fit_to_lists(_sized(train_seconds=None), short, FitConfig(pairs=["x"]))
    assert (unbudgeted["epochs"], unbudgeted["max_steps"], unbudgeted["reasons"]["epochs"]) == (2.0, 7, "planned")
    older = {k: v for k, v in _sized(max_steps=9, rows_per_step=2, learning_rate=5e-5).items()
             if k not in ("list_size", "want_epochs", "batch_pairs", "train_seconds")}
    kept = fit_to_lists(older, short, config)  # a size stage cached by an older crossrank: its schedule stands
    assert (kept["epochs"], kept["max_steps"], kept["rows_per_step"], kept["learning_rate"], kept["list_size"]) == (
        2.0, 9, 2, 5e-5, 10.0)
