"""The steps of ``bench_warm_start.py``: first stage and teachers, today's recipe, warm start, finetuning.

Every model row is scored once on the test and dev lists (logits cached under the work folder); the
fusion weight is tuned on the dev logits (plateau rule) and applied to the test logits, so no test query
informs any choice.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from _train_helpers import base_model, training_arguments
from _warm_data import FIRST_STAGE_MODEL, WarmData

KEYS = ("map", "mrr@10", "ndcg@10")


def primary(data: WarmData) -> str:
    return "map" if data.name == "WikiQA" else "ndcg@10"


class CachedScores:
    """A model stand-in that returns scores computed before (same pairs, same order), for tune_fusion."""

    fusion = None

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=np.float64)

    def predict(self, pairs: Any, **_: Any) -> np.ndarray:
        if len(pairs) != len(self.scores):
            raise ValueError(f"cached scores: {len(self.scores)} scores for {len(pairs)} pairs.")
        return self.scores

    def logits(self, pairs: Any, **kwargs: Any) -> np.ndarray:
        return self.predict(pairs, **kwargs).reshape(-1, 1)


def metrics(evaluator: Any, scores: np.ndarray) -> dict[str, float]:
    out = evaluator.compute(np.asarray(scores, dtype=np.float64))
    return {k: float(out[f"{evaluator.name}_{k}"]) for k in KEYS}


def first_stage_scores(evaluator: Any) -> np.ndarray:
    return np.concatenate([np.asarray(x.first_stage, dtype=np.float64) for x in evaluator._scored()])


def scoring_corpus(data: WarmData) -> list[str]:
    """The corpus plus any evaluation document outside it (WikiQA test/dev sentences: text only, for BM25)."""
    docs = dict.fromkeys(data.corpus)
    for evaluator in (data.test, data.dev):
        docs.update(dict.fromkeys(d for _, d in evaluator.pairs()))
    return list(docs)


def teachers(args: argparse.Namespace, corpus: list[str]) -> dict[str, Any]:
    from crossrank.warm_start import BM25Teacher, EmbedderTeacher, HybridTeacher

    dense = EmbedderTeacher(FIRST_STAGE_MODEL, cache_folder=str(Path(args.work_dir) / "embeddings"))
    sparse = BM25Teacher()
    dense.index(corpus)
    sparse.index(corpus)
    return {"embedder": dense, "bm25": sparse, "hybrid": HybridTeacher(dense, sparse, args.hybrid_weight)}


def first_stage_rows(data: WarmData, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    from crossrank.warm_start import TeacherScorer

    yield "first-stage", {"tag": "first-stage", "label": f"first stage alone ({data.first_stage})",
                          "test": metrics(data.test, first_stage_scores(data.test)),
                          "dev": metrics(data.dev, first_stage_scores(data.dev)),
                          "how": "the candidate lists in first-stage order."}
    corpus = scoring_corpus(data)
    for name, teacher in teachers(args, corpus).items():
        scorer = TeacherScorer(teacher, corpus)
        row = {"tag": f"teacher-{name}", "label": f"teacher: {teacher.name}",
               "test": metrics(data.test, scorer.predict(data.test.pairs())),
               "dev": metrics(data.dev, scorer.predict(data.dev.pairs())),
               "how": f"the same lists reordered by the teacher {teacher.name} (no training)."}
        yield row["tag"], row


def logits(model: Any, evaluator: Any, args: argparse.Namespace, path: Path, reuse: bool = False) -> np.ndarray:
    """The model's logits on the evaluator's pairs, saved to ``path`` (read from it when ``reuse`` and present)."""
    if reuse and path.is_file():
        return np.load(path)
    saved = model.max_length
    model.max_length = args.eval_max_length
    try:
        scores = model.logits(evaluator.pairs(), batch_size=32, show_progress_bar=False)[:, 0]
    finally:
        model.max_length = saved
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, scores)
    return scores


def model_row(model: Any, data: WarmData, args: argparse.Namespace, tag: str, label: str, how: str,
              minutes: float, reuse: bool = False) -> dict[str, Any]:
    """Test and dev metrics of ``model`` alone, and fused with the first stage (weight tuned on dev).

    ``reuse``: the model was loaded from its saved folder, so logits saved for this tag are its own.
    """
    folder = Path(args.work_dir) / args.dataset / "logits"
    test = logits(model, data.test, args, folder / f"{tag}-test.npy", reuse)
    dev = logits(model, data.dev, args, folder / f"{tag}-dev.npy", reuse)
    fusion, _ = data.dev.tune_fusion(CachedScores(dev), metric=primary(data))
    fused = data.test.compute_fused(test, fusion)
    return {"tag": tag, "label": label, "test": metrics(data.test, test), "dev": metrics(data.dev, dev),
            "fused": {k: float(fused[f"{data.test.name}_fused_{k}"]) for k in KEYS}, "weight": fusion.weight,
            "how": how, "minutes": minutes}


def model_dir(args: argparse.Namespace, tag: str) -> Path:
    return Path(args.work_dir) / args.dataset / "models" / tag


def warm_row(data: WarmData, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """The warm-started model's row; a folder finished by an earlier run (``bench_warm.json``) is scored again."""
    from crossrank import CrossEncoder

    folder = model_dir(args, args.warm_tag)
    saved = folder / "bench_warm.json"
    reuse = saved.is_file() and (folder / "config.json").is_file()
    if reuse:
        print(f"{args.warm_tag}: reusing the model warm-started by an earlier run ({folder}; delete it or pass "
              "another --warm-tag to train again)", flush=True)
        record = json.loads(saved.read_text())
        model = CrossEncoder(str(folder), max_length=args.max_length, device="cpu")
    else:
        model, record = train_warm(data, args)
        model.save_pretrained(folder)
        saved.write_text(json.dumps(record))
    yield args.warm_tag, model_row(model, data, args, args.warm_tag, f"warm start only ({args.teacher} teacher, "
                                   f"no labels; `{args.warm_tag}`)", record["how"], record["minutes"], reuse=reuse)


def train_warm(data: WarmData, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Warm-start a fresh reranker on the teacher's lists; returns it and its row's ``how`` and ``minutes``."""
    from crossrank.warm_start import WarmStartConfig, warm_start

    model = base_model(args.max_length, args.seed)
    config = WarmStartConfig(
        teacher=args.teacher, hybrid_weight=args.hybrid_weight, num_lists=args.warm_lists, top_k=args.warm_top_k,
        sampled=args.warm_sampled, depth=args.warm_depth, loss=args.warm_loss, target_scale=args.warm_scale,
        learning_rate=args.warm_lr,
        head_learning_rate=args.warm_head_lr or None, head_init=args.warm_head_init, epochs=args.warm_epochs,
        batch_size=args.warm_batch_size, max_length=args.max_length,
        budget_s=args.warm_budget_s, seed=args.seed, keep_freed_memory=True)
    teacher = teachers(args, data.corpus)[args.teacher]
    report = warm_start(model, data.queries, data.corpus, teacher=teacher, config=config)
    lines = report.summary().splitlines()
    head = f"; {lines[1].strip()}" if args.warm_head_init else ""
    how = (f"{lines[0]}{head}; held-out distillation loss {report.heldout_loss_before:.4f} -> "
           f"{report.heldout_loss_after:.4f}; {args.warm_loss}, target_scale {args.warm_scale:g}, top {args.warm_top_k}"
           f" + {args.warm_sampled} sampled of the teacher's top {args.warm_depth}, lr {args.warm_lr:g} (head "
           f"{args.warm_head_lr:g}), warm-up 0.1 and linear decay over the budget, batch "
           f"{args.warm_batch_size}, max_length {args.max_length}; no label used.")
    return model, {"how": how, "minutes": report.train_seconds / 60}


class DevEvaluator:
    """The dev lists scored by the model (plus ``weight * z(first stage)`` in residual mode)."""

    greater_is_better = True

    def __init__(self, data: WarmData, residual_weight: float | None) -> None:
        self.evaluator, self.weight, self.metric = data.dev, residual_weight, primary(data)
        self.primary_metric = f"dev_{'residual_' if residual_weight is not None else ''}{self.metric}"

    def __call__(self, model: Any, output_path: str | None = None, epoch: float = -1, steps: int = -1) -> dict:
        from crossrank.evaluation.reranking import per_list
        from crossrank.inference.fusion import normalize_scores

        scores = model.logits(self.evaluator.pairs(), batch_size=32, show_progress_bar=False)[:, 0]
        if self.weight is not None:
            scores = np.concatenate([chunk + self.weight * normalize_scores(item.first_stage, "zscore")
                                     for item, chunk in per_list(self.evaluator._scored(), scores)])
        return {self.primary_metric: metrics(self.evaluator, scores)[self.metric]}


def residual_train(data: WarmData, args: argparse.Namespace) -> Any:
    """The finetuning lists with each document's first-stage score appended to the labels."""
    from crossrank.warm_start import TeacherScorer
    from crossrank.warm_start.residual import with_first_stage

    corpus = scoring_corpus(data)
    teacher = teachers(args, corpus)["bm25" if data.first_stage == "BM25" else "embedder"]
    scorer, train = TeacherScorer(teacher, corpus), data.train_lists
    docs = train.column_names[1]
    first = [scorer.predict([(q, d) for d in ds]).tolist() for q, ds in zip(train["query"], train[docs])]
    return with_first_stage(train, first)


def finetune(model: Any, data: WarmData, args: argparse.Namespace, lr: float, residual: bool,
             start: Path | None) -> tuple[Any, str, float]:
    """Supervised ListNet on the finetuning lists, best of the dev evaluations kept.

    With ``start`` (the warm-started folder), the dev score before finetuning competes too: when no
    finetuned checkpoint beats it, the warm start is kept. Returns (model, description, minutes).
    """
    from crossrank import CrossEncoder, Trainer
    from crossrank.losses import ListNetLoss
    from crossrank.warm_start.budget import TimeBudget
    from crossrank.warm_start.residual import ResidualLoss

    weight = args.ft_residual_weight if residual else None
    dev = DevEvaluator(data, weight)
    train = residual_train(data, args) if residual else data.train_lists
    loss = ResidualLoss(model, ListNetLoss(model), weight) if residual else ListNetLoss(model)
    before = dev(model)[dev.primary_metric] if start is not None else None
    ns = argparse.Namespace(epochs=args.ft_epochs, lr=lr, batch_size=args.ft_batch_size, warmup_ratio=0.1,
                            evals_per_epoch=args.ft_evals, max_steps=-1, seed=args.seed)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        targs = training_arguments(ns, tmp, dev.primary_metric, len(train))
        trainer = Trainer(model, targs, train_dataset=train, loss=loss, evaluator=dev,
                          callbacks=[TimeBudget(args.ft_budget_s)])
        trainer.train()
    key = f"eval_{dev.primary_metric}"
    curve = [(r["step"], r[key]) for r in trainer.state.log_history if key in r]
    best = max((v for _, v in curve), default=float("-inf"))
    kept = before is not None and before >= best
    if kept:
        model = CrossEncoder(str(start), max_length=args.max_length, device="cpu")
    minutes = (time.monotonic() - began) / 60
    text = ", ".join(f"{s}: {v:.4f}" for s, v in curve)
    inside = f" with the first-stage score inside the loss (weight {weight} on its z-score)" if residual else ""
    how = (f"ListNet{inside} on {len(train)} labelled lists, {args.ft_epochs:g} epoch(s), lr {lr:g}, warm-up 0.1, "
           f"batch {args.ft_batch_size}, max_length {args.max_length}; dev {dev.primary_metric} "
           + (f"before finetuning {before:.4f}, " if before is not None else "") + f"by step: {text}; kept: "
           + ("the warm start (no checkpoint beat it)" if kept else f"best step ({best:.4f})") + ".")
    return model, how, minutes


def recipe_row(data: WarmData, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    model = base_model(args.max_length, args.seed)
    model, how, minutes = finetune(model, data, args, args.recipe_lr, False, None)
    how = "all-MiniLM-L6-v2 with a fresh head (today's recipe, no warm start): " + how
    yield "recipe", model_row(model, data, args, "recipe", "today's recipe (fresh head, ListNet on labels)", how,
                              minutes)


def warm_ft_row(data: WarmData, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    from crossrank import CrossEncoder

    source = model_dir(args, args.ft_from or args.warm_tag)
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source} has no warm-started model; run --steps warm first.")
    model = CrossEncoder(str(source), max_length=args.max_length, device="cpu")
    residual = args.ft_mode == "residual"
    model, how, minutes = finetune(model, data, args, args.ft_lr, residual, source)
    tag = f"{args.ft_from or args.warm_tag}-ft" + ("-residual" if residual else "")
    label = f"warm start + finetuning ({'residual' if residual else 'plain'})"
    yield tag, model_row(model, data, args, tag, label, f"from `{source.name}`: " + how, minutes)


def run(step: str, data: WarmData, args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows one step produces."""
    builders = {"first-stage": first_stage_rows, "recipe": recipe_row, "warm": warm_row, "warm-ft": warm_ft_row}
    yield from builders[step](data, args)
