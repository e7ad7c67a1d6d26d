"""Stage 9 of the run order, report: ``report.md`` and a self-contained ``report.html`` of the whole run.

Sections: the result (test: retriever, reranker, fused; realistic and with all positives added; the other
first stages beside them), every choice with what it was made on (dev or the data, never test), the data,
the time per stage against the budget, and three plots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossrank.fit import plots
from crossrank.fit.document import Document
from crossrank.fit.metrics import AT_K, metric_names
from crossrank.fit.size import trained_plan

ROW_NAMES = {"retriever": "retriever alone", "reranker": "reranker alone", "fused": "fused"}


def result_rows(table: Mapping[str, Mapping[str, float]], names: list[str], chosen: str) -> list[list[Any]]:
    rows = []
    for row, label in ROW_NAMES.items():
        title = f"{label} ({chosen})" if row == "retriever" else label
        rows.append([title, *[table[row][n] for n in names]])
    return rows


def add_results(doc: Document, p: Mapping[str, Any]) -> None:
    ev, first = p["evaluate"], p["first_stage"]
    names = metric_names(ev["depth"])
    doc.heading("Result on test")
    source = "the --eval queries" if p["split"]["test_from_eval"] else "the test split"
    doc.para(f"{ev['queries']} queries of {source}, never used for any choice. Realistic mode: the reranker rescores "
             f"the {first['chosen']} first stage's top {ev['depth']}.")
    doc.table(["realistic", *names], result_rows(ev["tables"]["realistic"], names, first["chosen"]))
    doc.para("With all positives added (every relevant document is in the list, whether the first stage found it "
             "or not): the reranker's own ranking quality.")
    doc.table(["all positives added", *names], result_rows(ev["tables"]["all_positives"], names, first["chosen"]))
    doc.para("Every first stage on the same test queries (their own order, top "
             f"{ev['depth']}):")
    doc.table(["first stage", *names], [[n, *[m[k] for k in names]] for n, m in ev["retrievers"].items()])


def choice_rows(p: Mapping[str, Any]) -> list[list[str]]:
    first, plan, train = p["first_stage"], trained_plan(p), p["train"]
    key = f"ndcg@{AT_K}"
    dev_first = ", ".join(f"{n} {m[key]:.4f}" for n, m in first["dev"].items())
    rows = [["first stage", first["chosen"], f"dev NDCG@10: {dev_first} ({first['reason']})"]]
    if first.get("hybrid_weight") is not None:
        rows.append(["hybrid BM25 weight", f"{first['hybrid_weight']:.1f}", "best dev NDCG@10 of 0.1 ... 0.9"])
    for name in ("loss", "epochs", "learning_rate", "max_length", "rerank_k"):
        rows.append([name.replace("_", " "), str(plan[name]), plan["reasons"][name]])
    warm = p["warm_start"]
    if warm.get("enabled"):
        report = warm["report"]
        rows.append(["warm start", f"{report['lists']} lists ({report['user_queries']} train queries, "
                     f"{report['pseudo_queries']} pseudo-queries), {report['steps']} steps",
                     f"dev NDCG@10 (evaluation subset) of the warm reranker {warm['dev_after']:.4f}, of the first "
                     f"stage {warm['dev_first_stage']:.4f}; teacher: {report['teacher']}"])
    else:
        rows.append(["warm start", "off", warm["reason"]])
    best = max(train["best_metric"], train["start_metric"])
    rows.append(["checkpoint", train["kept"], f"best dev NDCG@10 {best:.4f} "
                 f"over {len(train['curve'])} evaluations on {plan['eval_queries']} dev queries"])
    if "depth_choice" in train:
        from crossrank.fit.depth import summary as depth_summary

        rows.append(["rerank depth (trained)", str(train["rerank_k"]), depth_summary(train["depth_choice"])])
    fusion = train["fusion"]
    rows.append(["fusion weight", f"{fusion['weight']:.2f} ({fusion['normalize']})",
                 "middle of the weights tied with the best on dev NDCG@10 (all dev queries)"])
    return rows


def add_choices(doc: Document, p: Mapping[str, Any]) -> None:
    doc.heading("Choices (made on dev or the data, never on test)")
    doc.table(["choice", "value", "made on / why"], choice_rows(p))


def add_data(doc: Document, p: Mapping[str, Any]) -> None:
    v, s, m = p["validate"], p["split"], p["mine"]
    doc.heading("Data")
    stats = v["stats"]
    lines = [*v["notes"]["columns"], f"{stats['answered_queries']} queries with a relevant document, "
             f"{stats['documents']} documents; added to the corpus from PAIRS: {v['notes']['added_documents']}; "
             f"duplicate rows merged: {v['notes']['duplicate_rows']}; queries without a relevant document: "
             f"{stats['unanswered_queries']}",
             f"split: {len(s['train'])} train / {len(s['dev'])} dev / {len(s['test'])} test queries",
             f"mining: {m['counts']['hard']} hard, {m['counts']['random']} random, {m['counts']['judged']} judged "
             f"negatives for {len(m['lists'])} train queries; settings {m['settings']}"]
    for line in lines:
        doc.para(f"- {line}")


def add_times(doc: Document, seconds: Mapping[str, float], cached: Mapping[str, bool], budget: float | None) -> None:
    doc.heading("Time per stage")
    total = sum(seconds.values())
    rows = [[name, f"{value:.1f}", "cached (earlier session)" if cached.get(name) else ""]
            for name, value in seconds.items()]
    rows.append(["total", f"{total:.1f}", f"budget {budget:.0f} s ({total / budget:.0%} used)" if budget else
                 "no budget"])
    doc.table(["stage", "seconds", "note"], rows)


def add_plots(doc: Document, p: Mapping[str, Any]) -> None:
    if not plots.available():
        doc.para("(plots need matplotlib: pip install 'crossrank[plots]')")
        return
    doc.heading("Plots")
    train, first, ev = p["train"], p["first_stage"], p["evaluate"]
    baseline = train.get("curve_first_stage", first["dev"][first["chosen"]][f"ndcg@{AT_K}"])  # same basis
    doc.image("dev_curve.png", plots.dev_curve(train["curve"], baseline, p["warm_start"].get("enabled")),
              "Dev NDCG@10 over training (evaluation subset; step 0 is the start model)")
    doc.image("gain_fused.png", plots.per_query_gain(ev["per_query_gain"], "fused"),
              "Per-query NDCG@10 gain of the fused ranking over the retriever (test)")
    doc.image("gain_reranker.png", plots.per_query_gain(ev["reranker_gain"], "reranker alone"),
              "Per-query NDCG@10 gain of the reranker alone over the retriever (test)")
    doc.image("scores.png", plots.score_distributions(ev["scores"]["relevant"], ev["scores"]["other"]),
              "Reranker scores of relevant vs other candidates (test, realistic lists)")


def build(p: Mapping[str, Any], seconds: Mapping[str, float], cached: Mapping[str, bool], budget: float | None,
          commands: list[str]) -> Document:
    """The report of a run from its stages' payloads."""
    doc = Document("crossrank fit report")
    doc.para("Command: " + " ".join(f"`{c}`" for c in commands[:1]))
    add_results(doc, p)
    add_choices(doc, p)
    add_data(doc, p)
    add_times(doc, seconds, cached, budget)
    add_plots(doc, p)
    if len(commands) > 1:
        doc.heading("Use the result")
        for command in commands[1:]:
            doc.para(f"`{command}`")
    return doc
