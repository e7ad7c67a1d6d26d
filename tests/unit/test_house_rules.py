"""One of each: seeded in-batch grids built in data/, one positive-label rule, one BEIR loader, one dense
search, the model card written on save, a loss's mini_batch_size honoured, a fixed primary metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pytest
import torch

from crossrank.data.beir import load_beir_folder
from crossrank.data.columns import is_positive
from crossrank.data.grouping import group_labeled_pairs
from crossrank.pipeline.evaluate import EvaluateOptions, reranking_samples

TRIPLETS = [{"q": f"query {i}", "pos": f"positive {i}", "neg": f"negative {i}"} for i in range(6)]


def test_in_batch_grid_is_seeded_and_leaves_the_global_rng_alone(tiny_bert: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from crossrank import CrossEncoder
    from crossrank.data import collator
    from crossrank.losses import MultipleNegativesRankingLoss

    grids: list[Any] = []
    model = CrossEncoder(tiny_bert)
    loss = MultipleNegativesRankingLoss(model, num_negatives=2)
    build = loss.build_grid
    monkeypatch.setattr(loss, "build_grid", lambda *a, **k: grids.append(build(*a, **k)) or grids[-1])
    torch.manual_seed(0)
    state = torch.get_rng_state()
    batch = collator.RerankCollator(model, loss, seed=3)(TRIPLETS)
    assert torch.equal(torch.get_rng_state(), state) and batch["mask"].shape == (6, 4)
    torch.manual_seed(123)
    collator.RerankCollator(model, loss, seed=3)(TRIPLETS)
    collator.RerankCollator(model, loss, seed=4)(TRIPLETS)
    same, again, other = (g.documents for g in grids)
    assert same == again and same != other
    for i, docs in enumerate(same):
        assert docs[0] == f"positive {i}" and docs[-1] == f"negative {i}"
        assert all(not d.endswith(str(i)) for d in docs[1:3])


def test_one_positive_label_rule_for_grouping_and_evaluate() -> None:
    rows = datasets.Dataset.from_dict({"question": ["q", "q", "q"], "sentence": ["a", "b", "c"],
                                       "label": [0.3, 0.0, 2.0]})
    grouped = group_labeled_pairs(rows)
    assert grouped == [{"query": "q", "positive": ["a", "c"], "negative": ["b"]}]
    assert reranking_samples(rows, EvaluateOptions("reranking", "unused")) == grouped
    assert [is_positive(v) for v in (0, 0.0, 1e-9, 1, -1)] == [False, False, True, True, False]


def test_beir_loader_reads_scifact_style_names(tmp_path: Path) -> None:
    import gzip

    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": 7, "title": "T", "text": "doc seven"}) + "\n")
    (tmp_path / "claims_dev.jsonl").write_text(json.dumps({"_id": "1", "text": "a claim"}) + "\n")
    (tmp_path / "qrels_dev.tsv").write_text("query-id\tcorpus-id\tscore\n1\t7\t1\n")
    data = load_beir_folder(tmp_path, split="dev", name="sf")
    assert (data.corpus, data.queries, data.qrels) == ({"7": "T doc seven"}, {"1": "a claim"}, {"1": {"7": 1.0}})
    (tmp_path / "claims_test.jsonl").write_text(json.dumps({"_id": "1", "text": "a claim"}) + "\n")
    (tmp_path / "qrels_test.tsv").write_text("1\t7\n")
    with pytest.raises(ValueError, match=r"qrels_test.tsv, row 1: expected 'query-id<TAB>corpus-id<TAB>score'"):
        load_beir_folder(tmp_path, split="test")


class TableEncoder:
    """Fixed vectors per text, so that search results are known."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def test_beir_dense_search_is_the_mining_search() -> None:
    from crossrank.evaluation.beir import BEIRData, dense_search

    data = BEIRData("toy", {"d1": "one", "d2": "two", "d3": "three"}, {"q1": "ask", "q2": "other"})
    encoder = TableEncoder({"one": [1, 0], "two": [0.5, 0.5], "three": [0, 1], "ask": [1, 0], "other": [0, 2]})
    run = dense_search(data, ["q1", "q2"], 2, encoder)
    assert run == {"q1": {"d1": 1.0, "d2": 0.5}, "q2": {"d3": 2.0, "d2": 1.0}}
    assert list(run["q2"]) == ["d3", "d2"]


ROWS = [{"query": "what is the capital of france", "doc": "paris is the capital", "label": 1},
        {"query": "what is the capital of france", "doc": "the dog", "label": 0},
        {"query": "who wrote the book", "doc": "the author wrote it", "label": 1},
        {"query": "who wrote the book", "doc": "a river", "label": 0}]


def test_a_model_trained_with_the_python_trainer_gets_its_card(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank import CrossEncoder, Trainer, TrainingArguments

    model = CrossEncoder(tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=2,
                             use_cpu=True, disable_tqdm=True, save_strategy="no")
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(ROWS))
    trainer.train()
    card = (model.save_pretrained(tmp_path / "saved") / "README.md").read_text()
    assert "BinaryCrossEntropyLoss" in card and "max_steps" in card
    trainer.save_model(str(tmp_path / "via-trainer"))
    saved = tmp_path / "via-trainer"
    assert (saved / "README.md").is_file()
    assert "sentence_transformers" in json.loads((saved / "config.json").read_text())
    assert not (model.__class__(tiny_bert).save_pretrained(tmp_path / "plain") / "README.md").exists()


def test_a_listwise_loss_mini_batch_size_chunks_the_scoring(tiny_bert: Path, tmp_path: Path) -> None:
    from crossrank import CrossEncoder, Trainer, TrainingArguments
    from crossrank.losses import ListNetLoss

    rows = [{"query": "q one", "docs": ["a", "b", "c"], "labels": [1, 0, 0]},
            {"query": "q two", "docs": ["d", "e"], "labels": [0, 1]}]
    model = CrossEncoder(tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), use_cpu=True, per_device_train_batch_size=2)
    trainer = Trainer(model, args, train_dataset=datasets.Dataset.from_list(rows),
                      loss=ListNetLoss(model, mini_batch_size=2))
    trainer.current_gradient_accumulation_steps = 1
    calls: list[int] = []
    handle = trainer.model.register_forward_hook(lambda m, a, kw, out: calls.append(kw["input_ids"].shape[0]),
                                                 with_kwargs=True)
    trainer.training_step(trainer.model, trainer.data_collator(rows))
    handle.remove()
    assert calls == [2, 2, 1, 2, 2, 1]  # 5 pairs scored in chunks of 2 without grad, then replayed
    with pytest.raises(ValueError, match="mini_batch_size must be a positive number of pairs; found 0"):
        ListNetLoss(model, mini_batch_size=0)


def test_classification_primary_metric_is_fixed_when_built() -> None:
    from crossrank.evaluation import ClassificationEvaluator

    class TwoOutputs:
        def predict(self, pairs: list[Any], **kwargs: Any) -> np.ndarray:
            return np.tile([[0.2, 0.8]], (len(pairs), 1))

    pairs = [("a", "b"), ("c", "d")]
    binary = ClassificationEvaluator(pairs, [1, 0], name="cls", write_csv=False)
    with pytest.raises(ValueError, match=r"built for a one-output model \(primary metric cls_average_precision\); "
                                         r"the model returned 2 output\(s\) per pair. Pass num_labels=2"):
        binary(TwoOutputs())
    assert binary.primary_metric == "cls_average_precision"
    two = ClassificationEvaluator(pairs, [1, 0], name="cls", write_csv=False, num_labels=2)
    assert two.primary_metric == "cls_f1_macro" and set(two(TwoOutputs())) == {"cls_f1_macro", "cls_f1_micro",
                                                                                "cls_f1_weighted"}
    assert two.primary_metric == "cls_f1_macro"
