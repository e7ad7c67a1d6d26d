"""Model card tests: golden rendering, Hub parsing, the collected pieces, and a card written after training.

Regenerate the golden file with ``CROSSRANK_UPDATE_GOLDEN=1 pytest tests/unit/test_model_card.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from datasets import Dataset

from crossrank.model_card import plots as model_card_plots
from crossrank.model_card.card import (
    DatasetStats,
    EvaluationResult,
    ModelCardData,
    dataset_statistics,
    evaluation_results,
    front_matter,
    non_default_hyperparameters,
    render_model_card,
    write_model_card,
)

GOLDEN = Path(__file__).parent / "golden" / "model_card.md"
VERSIONS = {"python": "3.11.0", "crossrank": "0.1.0", "transformers": "5.0.0", "torch": "2.5.0",
            "datasets": "3.0.0", "tokenizers": "0.21.0"}
SECTIONS = ("## Model details", "## How to use it", "### With crossrank", "### With plain transformers",
            "## Evaluation", "### Training data", "### Loss", "### Hyperparameters", "### Training logs",
            "### Training curves", "### Framework versions", "## Citation")
ROWS = [
    ("what is the capital of france", "paris is the capital of france", 1.0),
    ("what is the capital of france", "the cat is an animal", 0.0),
    ("who wrote the book", "the author of the book | a long title", 1.0),
    ("who wrote the book", "the sun is a star", 0.0),
]


def _dataset(rows: list[tuple[str, str, float]] = ROWS) -> Dataset:
    return Dataset.from_dict({"query": [r[0] for r in rows], "document": [r[1] for r in rows],
                              "label": [r[2] for r in rows]})


def _fixed_card() -> ModelCardData:
    log_history: list[dict[str, Any]] = [
        {"loss": 0.7, "grad_norm": 1.0, "learning_rate": 2e-5, "epoch": 0.5, "step": 10},
        {"eval_loss": 0.65, "eval_dev_map": 0.5, "eval_dev_ndcg@10": 0.61, "eval_runtime": 0.1, "epoch": 0.5,
         "step": 10},
        {"loss": 0.5, "epoch": 1.0, "step": 20},
        {"eval_loss": 0.6, "eval_dev_map": 0.55, "eval_dev_ndcg@10": 0.7, "epoch": 1.0, "step": 20},
        {"loss": 0.45, "epoch": 1.5, "step": 30},
        {"eval_loss": 0.62, "eval_dev_map": 0.52, "eval_dev_ndcg@10": 0.66, "epoch": 1.5, "step": 30},
        {"train_runtime": 12.0, "train_loss": 0.55, "epoch": 1.5, "step": 30},
    ]
    return ModelCardData(
        language="en", license="apache-2.0", model_id="someone/tiny-reranker",
        base_model="google-bert/bert-base-uncased",
        train_datasets=[{"name": "Toy pairs", "id": "someone/toy-pairs"}], tags=["toy"],
        citations={"Toy paper": "@article{toy,\n  title={Toy}\n}"},
        num_labels=1, max_length=128, activation="Sigmoid",
        dataset_stats=[dataset_statistics(_dataset(), "Toy pairs", "someone/toy-pairs")],
        loss_name="BinaryCrossEntropyLoss", loss_input_format="pair",
        loss_config={"activation_fn": "torch.nn.modules.linear.Identity", "pos_weight": None},
        hyperparameters={"learning_rate": 2e-5, "num_train_epochs": 2, "eval_strategy": "steps"},
        log_history=log_history, best_global_step=20, best_metric=0.7,
        metric_for_best_model="eval_dev_ndcg@10",
        evaluation=[EvaluationResult(name="dev", metrics={"dev_map": 0.55, "dev_ndcg@10": 0.7},
                                     primary_metric="dev_ndcg@10", config={"at_k": 10})],
        training_curves={"Loss against step": "training_loss.png"},
        framework_versions=dict(VERSIONS),
    )


def test_render_matches_golden_file() -> None:
    text = render_model_card(_fixed_card())
    if os.environ.get("CROSSRANK_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "golden file missing; run with CROSSRANK_UPDATE_GOLDEN=1 once"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_card_parses_on_the_hub_parser() -> None:
    from huggingface_hub import ModelCard

    card = ModelCard(render_model_card(_fixed_card()))
    data = card.data.to_dict()
    assert data["pipeline_tag"] == "text-ranking"
    assert data["library_name"] == "crossrank"
    assert data["base_model"] == "google-bert/bert-base-uncased"
    assert data["metrics"] == ["ndcg@10"]
    assert {"cross-encoder", "reranker", "crossrank"} <= set(data["tags"])
    results = data["model-index"][0]["results"]
    assert results[0]["metrics"][1] == {"type": "ndcg@10", "value": 0.7, "name": "ndcg@10"}
    assert card.data.eval_results and card.data.eval_results[0].metric_value == 0.55


def test_render_marks_primary_metric_and_best_row_bold() -> None:
    text = render_model_card(_fixed_card())
    assert "| **ndcg@10** | **0.7000** |" in text
    assert "| **1** | **20** | **0.5000** | **0.6000** | **0.7000** |" in text
    assert "| 0.5 | 10 | 0.7000 | 0.6500 | 0.6100 |" in text
    assert all(section in text for section in SECTIONS)


def test_local_base_model_is_kept_out_of_metadata(tmp_path: Path) -> None:
    card = ModelCardData(base_model=str(tmp_path), framework_versions=dict(VERSIONS))
    assert "base_model" not in front_matter(card)
    text = render_model_card(card)
    assert "a local checkpoint" in text and "model-index" not in text
    assert "_No evaluator was run" in text


def test_dataset_statistics_lengths_labels_and_examples() -> None:
    rows = [("q" * 200, "d", 2.0), ("q", "dd", 0.0), ("qq", "ddd", 2.0), ("x", "y", 1.0)]
    stats: DatasetStats = dataset_statistics(_dataset(rows), "toy")
    assert stats.num_rows == 4 and stats.label_column == "label"
    assert stats.columns[1] == ("document", "string", "min 1 chars, mean 1.75 chars, max 3 chars")
    assert stats.label_distribution == "0: 1 (25.0%), 1: 1 (25.0%), 2: 2 (50.0%)"
    assert len(stats.examples) == 3 and stats.examples[0]["query"].endswith("…")
    assert len(stats.examples[0]["query"]) == 80


def test_dataset_statistics_list_columns() -> None:
    data = Dataset.from_dict({"query": ["a", "b"], "docs": [["x", "yy"], ["z"]], "labels": [[1, 0], [1]]})
    stats = dataset_statistics(data, "lists")
    assert stats.columns[1] == ("docs", "list of string", "min 1 items, mean 1.50 items, max 2 items")
    assert stats.label_distribution == "0: 1 (33.3%), 1: 2 (66.7%)"


def test_non_default_hyperparameters_skip_paths_and_logging(tmp_path: Path) -> None:
    from crossrank import TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, logging_steps=7, report_to="none")
    changed = non_default_hyperparameters(args)
    assert changed["learning_rate"] == 1e-3
    assert "output_dir" not in changed and "logging_steps" not in changed and "report_to" not in changed


def test_evaluation_results_from_logs_and_explicit_metrics() -> None:
    class Fake:
        name, primary_metric, greater_is_better, description = "dev", "dev_map", True, "Reranking"

    logs = [{"eval_dev_map": 0.2, "step": 1}, {"eval_dev_map": 0.4, "eval_runtime": 1.0, "step": 2}]
    from_logs = evaluation_results([Fake()], None, logs)
    assert from_logs[0].metrics == {"dev_map": 0.4} and from_logs[0].primary_metric == "dev_map"
    explicit = evaluation_results([Fake()], {"dev_map": 0.9, "other_x": 1.0})
    assert explicit[0].metrics == {"dev_map": 0.9}
    plain = evaluation_results([], {"eval_acc": 0.8, "eval_runtime": 2.0})
    assert plain[0].metrics == {"acc": 0.8} and plain[0].primary_metric is None


def test_training_log_table_keeps_best_row_when_thinned() -> None:
    logs = [{"loss": 1.0 / (i + 1), "epoch": i / 100, "step": i} for i in range(1, 121)]
    logs.append({"eval_dev_map": 0.9, "step": 77, "epoch": 0.77})
    table = model_card_plots.training_log_table(logs, ["eval_dev_map"], best_step=77)
    assert "Showing" in table and "of 120 logged steps" in table
    assert "| **0.77** | **77** |" in table


def test_write_model_card_errors_and_explicit_pieces(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        write_model_card(tmp_path / "missing")
    with pytest.raises(ValueError, match="placeholders"):
        render_model_card(ModelCardData(framework_versions={}), template="{unknown}")
    path = write_model_card(tmp_path, card_data=ModelCardData(model_id="a/b"), evaluator_metrics={"acc": 0.5})
    text = path.read_text(encoding="utf-8")
    assert "| acc | 0.5000 |" in text and 'CrossEncoder("a/b")' in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def _train(tiny_bert: Path, tmp_path: Path) -> Any:
    import crossrank
    from crossrank.evaluation import RerankingEvaluator

    samples = [{"query": ROWS[0][0], "positive": [ROWS[0][1]], "negative": [ROWS[1][1], ROWS[3][1]]}]
    evaluator = RerankingEvaluator(samples, name="dev", write_csv=False)
    args = crossrank.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=4, per_device_train_batch_size=2, report_to="none",
        use_cpu=True, logging_steps=1, eval_strategy="steps", eval_steps=2, save_strategy="steps",
        save_steps=2, metric_for_best_model="eval_dev_ndcg@10", learning_rate=1e-3,
    )
    model = crossrank.CrossEncoder(str(tiny_bert))
    trainer = crossrank.Trainer(model=model, args=args, train_dataset=_dataset(), evaluator=evaluator)
    trainer.train()
    return trainer


def test_card_written_after_training(tiny_bert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    trainer = _train(tiny_bert, tmp_path)
    saved = tmp_path / "saved"
    trainer.cross_encoder.save_pretrained(saved)
    card_data = ModelCardData(language="en", train_datasets=[{"name": "toy"}])
    text = write_model_card(saved, trainer=trainer, card_data=card_data).read_text(encoding="utf-8")
    assert all(section in text for section in SECTIONS)
    assert "**ndcg@10**" in text and "BinaryCrossEntropyLoss" in text and "`max_steps`: `4`" in text
    assert f"| **{trainer.state.best_global_step}** |" in text
    assert "| `query` | string |" in text and "Label distribution (`label`): 0: 2 (50.0%), 1: 2 (50.0%)" in text
    for png in ("training_loss.png", "training_metric.png"):
        assert (saved / png).stat().st_size > 0 and f"]({png})" in text
    assert card_data.dataset_stats == []  # the caller's card data is not modified

    from huggingface_hub import ModelCard

    assert ModelCard(text).data.to_dict()["model-index"][0]["results"][0]["task"]["type"] == "text-ranking"
    monkeypatch.setattr(model_card_plots, "matplotlib_available", lambda: False)
    bare = tmp_path / "bare"
    trainer.cross_encoder.save_pretrained(bare)
    text = write_model_card(bare, trainer=trainer).read_text(encoding="utf-8")
    assert "matplotlib is not installed" in text and not (bare / "training_loss.png").exists()


def test_card_lists_every_loss_of_a_multi_dataset_run(tiny_bert: Path) -> None:
    from types import SimpleNamespace

    from crossrank import CrossEncoder, TrainingArguments
    from crossrank.losses import BinaryCrossEntropyLoss, ListNetLoss
    from crossrank.model_card import ModelCardData, fill_from_trainer

    model = CrossEncoder(tiny_bert)
    trainer = SimpleNamespace(
        cross_encoder=model, train_dataset=None, evaluators=[],
        loss={"pairs": BinaryCrossEntropyLoss(model), "lists": ListNetLoss(model)},
        args=TrainingArguments(output_dir="unused", report_to="none"),
        state=SimpleNamespace(log_history=[], best_metric=None, best_global_step=None, best_model_checkpoint=None),
    )
    card = ModelCardData()
    fill_from_trainer(card, trainer)
    assert card.loss_name == "BinaryCrossEntropyLoss + ListNetLoss"
    assert set(card.loss_config) == {"pairs", "lists"}
    assert card.loss_input_format is None


def test_card_describes_a_stored_fusion(tiny_bert: Path) -> None:
    from crossrank import CrossEncoder
    from crossrank.inference.fusion import Fusion
    from crossrank.model_card import fill_from_model

    model = CrossEncoder(tiny_bert, device="cpu")
    model.fusion = Fusion(0.25, tuned_on="dev map")
    card = _fixed_card()
    fill_from_model(card, model)
    text = render_model_card(card)
    line = "- **First-stage score fusion:** weight 0.25 on the first-stage score (zscore per query), tuned on dev map"
    assert line in text
    assert "for hit in model.rank(query, documents, first_stage_scores=first_stage_scores):" in text
    assert "First-stage score fusion" not in render_model_card(_fixed_card())
