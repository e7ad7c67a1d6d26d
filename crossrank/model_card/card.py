"""The model card: ``ModelCardData`` collects what describes a trained reranker, ``render_model_card``
turns it into a Hub README (YAML metadata + markdown) and ``write_model_card`` saves it into a model folder.

Every decision lives in Python; ``template.md`` only places the finished section strings.
Collected pieces are plain data so cards can be built from a ``crossrank.Trainer`` or by hand, and
``framework_versions`` can be pinned for reproducible (golden-file) rendering.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import platform
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from crossrank.data.columns import LABEL_COLUMNS
from crossrank.inference.protocols import PairScorer
from crossrank.model_card import plots as model_card_plots
from crossrank.model_card import usage as model_card_usage
from crossrank.model_card.plots import is_noise as _is_noise
from crossrank.model_card.plots import markdown_table
from crossrank.model_card.plots import number as _number
from crossrank.storage.atomic import atomic_file_write

logger = logging.getLogger(__name__)

TEMPLATE_PATH = Path(__file__).with_name("template.md")
STATS_ROWS = 1000
EXAMPLE_ROWS = 3
MAX_CELL_CHARS = 80
SKIPPED_ARGS = frozenset({
    "output_dir", "logging_dir", "run_name", "report_to", "disable_tqdm", "logging_strategy", "logging_steps",
    "logging_first_step", "logging_nan_inf_filter", "log_level", "log_level_replica", "log_on_each_node",
    "overwrite_output_dir", "hub_token", "push_to_hub_token", "push_to_hub_model_id", "push_to_hub_organization",
})
VERSION_PACKAGES = ("crossrank", "transformers", "torch", "datasets", "tokenizers")
TASK_TYPES = {"Classification": "text-classification", "Correlation": "sentence-similarity"}


@dataclass
class EvaluationResult:
    """The metrics of one evaluator, as shown in the card and its ``model-index``.

    ``metrics`` keys are the evaluator's own (``"dev_ndcg@10"``, without the trainer's ``eval_``);
    ``primary_metric`` is one of them, or ``None``.
    """

    name: str
    metrics: dict[str, float]
    primary_metric: str | None = None
    description: str = "Reranking"
    greater_is_better: bool = True
    dataset_id: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def short(self, key: str) -> str:
        """``key`` without the evaluator-name prefix (``"dev_ndcg@10"`` -> ``"ndcg@10"``)."""
        return key.removeprefix(f"{self.name}_") if self.name else key


@dataclass
class DatasetStats:
    """Size, per-column statistics, label distribution and the first rows of one dataset."""

    name: str
    num_rows: int
    columns: list[tuple[str, str, str]]
    examples: list[dict[str, str]]
    dataset_id: str | None = None
    label_column: str | None = None
    label_distribution: str = ""
    rows_measured: int = 0


@dataclass
class ModelCardData:
    """What the model card says about a model. User fields first; the rest is filled from training.

    Args:
        language: ``"en"`` or a list of language codes.
        license: e.g. ``"apache-2.0"``.
        model_name: the card's title; defaults to "Reranker based on {base_model}".
        model_id: the Hub id the model is (or will be) pushed to; used in the usage snippets.
        base_model: the Hub id of the model finetuned; a local path is kept out of the metadata.
        train_datasets / eval_datasets: ``[{"name": "MS MARCO", "id": "microsoft/ms_marco"}, ...]``.
        tags: extra Hub tags.
        citations: ``{title: bibtex}`` shown in the Citation section.
    """

    language: str | list[str] | None = None
    license: str | None = None
    model_name: str | None = None
    model_id: str | None = None
    base_model: str | None = None
    train_datasets: list[dict[str, str]] = field(default_factory=list)
    eval_datasets: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    citations: dict[str, str] = field(default_factory=dict)
    # Filled from the model and the trainer.
    num_labels: int = 1
    max_length: int | None = None
    activation: str | None = None
    fusion: str | None = None
    dataset_stats: list[DatasetStats] = field(default_factory=list)
    loss_name: str | None = None
    loss_input_format: str | None = None
    loss_config: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    best_global_step: int | None = None
    best_metric: float | None = None
    metric_for_best_model: str | None = None
    evaluation: list[EvaluationResult] = field(default_factory=list)
    training_curves: dict[str, str] = field(default_factory=dict)
    training_curves_note: str | None = None
    framework_versions: dict[str, str] | None = None


# ---------------------------------------------------------------------------------------- collection
def framework_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model was trained with (``"not installed"`` when absent)."""
    versions = {"python": platform.python_version()}
    for package in VERSION_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str | int | float):
        return {str: "string", int: "int", float: "float"}[type(value)]
    if isinstance(value, list | tuple):
        inner = sorted({_kind(item) for item in value}) or ["unknown"]
        return f"list of {'/'.join(inner)}"
    return type(value).__name__


def _min_mean_max(values: Sequence[float], unit: str = "") -> str:
    if not values:
        return ""
    mean = sum(values) / len(values)
    return f"min {_number(min(values))}{unit}, mean {mean:.2f}{unit}, max {_number(max(values))}{unit}"


def _column_summary(values: list[Any]) -> str:
    kinds = {_kind(v) for v in values}
    if kinds == {"string"}:
        return _min_mean_max([len(v) for v in values], " chars")
    if all(isinstance(v, list | tuple) for v in values):
        return _min_mean_max([len(v) for v in values], " items")
    if kinds <= {"int", "float", "bool"}:
        return _min_mean_max([float(v) for v in values])
    return ""


def _label_distribution(values: list[Any]) -> str:
    flat = [x for v in values for x in (v if isinstance(v, list | tuple) else [v])]
    numeric = [float(x) for x in flat if isinstance(x, int | float)]
    if not numeric:
        return ""
    counts = Counter(numeric)
    if len(counts) <= 10 and all(x.is_integer() for x in counts):
        total = len(numeric)
        return ", ".join(f"{_number(k)}: {n} ({100 * n / total:.1f}%)" for k, n in sorted(counts.items()))
    return _min_mean_max(numeric)


def dataset_statistics(dataset: Any, name: str, dataset_id: str | None = None) -> DatasetStats:
    """Row count, column types and length statistics, label distribution and the first rows of ``dataset``.

    Statistics are measured on the first ``STATS_ROWS`` rows to stay cheap on large datasets.
    """
    num_rows = len(dataset)
    measured = dataset.select(range(min(num_rows, STATS_ROWS))) if hasattr(dataset, "select") else dataset
    table = measured.to_dict() if hasattr(measured, "to_dict") else {}
    column_names = list(getattr(dataset, "column_names", table.keys()))
    columns = [(c, " / ".join(sorted({_kind(v) for v in table.get(c, [])})) or "empty",
                _column_summary(table.get(c, []))) for c in column_names]
    label = next((c for c in column_names if c in LABEL_COLUMNS), None)
    examples = [
        {c: _cell(table[c][i]) for c in column_names} for i in range(min(EXAMPLE_ROWS, len(measured)))
    ]
    return DatasetStats(
        name=name, num_rows=num_rows, columns=columns, examples=examples, dataset_id=dataset_id,
        label_column=label, label_distribution=_label_distribution(table[label]) if label else "",
        rows_measured=len(measured),
    )


def non_default_hyperparameters(args: Any) -> dict[str, Any]:
    """The ``TrainingArguments`` fields that differ from a default instance, minus paths and logging noise."""
    values = args.to_dict()
    try:
        defaults = type(args)(output_dir=args.output_dir).to_dict()
    except (TypeError, ValueError) as error:  # a subclass with required fields: show everything
        logger.warning("Could not build default %s (%s); listing every argument.", type(args).__name__, error)
        defaults = {}
    return {
        key: value for key, value in values.items()
        if key not in SKIPPED_ARGS and "token" not in key and (key not in defaults or defaults[key] != value)
    }


def evaluation_results(
    evaluators: Iterable[Any], metrics: Mapping[str, float] | None, log_history: Sequence[Mapping[str, Any]] = ()
) -> list[EvaluationResult]:
    """Group final metrics per evaluator.

    Args:
        evaluators: objects with ``name``, ``primary_metric``, ``greater_is_better`` (may be empty).
        metrics: the final metrics (keys with or without ``eval_``); ``None`` takes the last logged ones.
        log_history: ``trainer.state.log_history``, read when ``metrics`` is ``None``.
    """
    results: list[EvaluationResult] = []
    for evaluator in evaluators:
        name = str(getattr(evaluator, "name", "") or "")
        found = _metrics_for(name, metrics, log_history)
        if not found:
            continue
        primary = getattr(evaluator, "primary_metric", None) or None
        config_fn = getattr(evaluator, "get_config_dict", None)
        results.append(EvaluationResult(
            name=name or type(evaluator).__name__, metrics=found, primary_metric=primary if primary in found else None,
            description=str(getattr(evaluator, "description", "Reranking")),
            greater_is_better=bool(getattr(evaluator, "greater_is_better", True)),
            config=dict(config_fn()) if callable(config_fn) else {},
        ))
    if not results and metrics:
        plain = {k.removeprefix("eval_"): float(v) for k, v in metrics.items() if not _is_noise(k)}
        results.append(EvaluationResult(name="", metrics=plain, description="Evaluation"))
    return results


def _metrics_for(name: str, metrics: Mapping[str, float] | None,
                 log_history: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    prefix = f"{name}_" if name else ""

    def pick(source: Mapping[str, Any]) -> dict[str, float]:
        plain = {k.removeprefix("eval_"): v for k, v in source.items() if not _is_noise(k)}
        return {k: float(v) for k, v in plain.items() if k.startswith(prefix) and isinstance(v, int | float)}

    if metrics is not None:
        return pick(metrics)
    for entry in reversed(log_history):
        found = pick({k: v for k, v in entry.items() if k.startswith("eval_")})
        if found:
            return found
    return {}


def _best_step(state: Any) -> int | None:
    step = getattr(state, "best_global_step", None)
    if step is None and getattr(state, "best_model_checkpoint", None):
        match = re.search(r"checkpoint-(\d+)$", str(state.best_model_checkpoint))
        step = int(match.group(1)) if match else None
    return int(step) if step is not None else None


def _named_datasets(data: Any, given: list[dict[str, str]], default: str) -> list[tuple[str, str | None, Any]]:
    items = list(data.items()) if isinstance(data, Mapping) else [(default, data)]
    named = []
    for index, (key, dataset) in enumerate(items):
        info = given[index] if index < len(given) else {}
        named.append((info.get("name") or info.get("id") or key, info.get("id"), dataset))
    return named


def fill_from_model(card: ModelCardData, model: PairScorer) -> None:
    """Copy the base model, label count, maximum length and activation of a ``CrossEncoder`` into ``card``."""
    card.num_labels = int(getattr(model, "num_labels", card.num_labels))
    card.max_length = getattr(model, "max_length", card.max_length)
    activation = getattr(model, "activation_fn", None)
    if activation is not None:
        card.activation = type(activation).__name__
    fusion = getattr(model, "fusion", None)
    if fusion is not None:
        tuned = f", tuned on {fusion.tuned_on}" if fusion.tuned_on else ""
        card.fusion = f"weight {fusion.weight:.2f} on the first-stage score ({fusion.normalize} per query){tuned}"
    if card.base_model is None:
        source = str(getattr(model, "name_or_path", "") or "")
        card.base_model = source or None


def fill_from_trainer(card: ModelCardData, trainer: Any, evaluator_metrics: Mapping[str, float] | None = None) -> None:
    """Fill ``card`` from a ``crossrank.Trainer``: model, data statistics, loss, arguments, logs, results.

    ``evaluator_metrics`` defaults to the trainer's ``final_metrics`` (set by ``crossrank train`` after its
    final evaluation), else the last logged evaluator metrics are used.
    """
    if evaluator_metrics is None:
        evaluator_metrics = getattr(trainer, "final_metrics", None)
    fill_from_model(card, trainer.cross_encoder)
    if trainer.train_dataset is not None and not card.dataset_stats:
        for name, dataset_id, dataset in _named_datasets(trainer.train_dataset, card.train_datasets, "train"):
            if not (hasattr(dataset, "__len__") and hasattr(dataset, "to_dict")):  # e.g. an IterableDataset
                logger.info("No statistics for training dataset %r: it has no length.", name)
                continue
            card.dataset_stats.append(dataset_statistics(dataset, name, dataset_id))
    losses = dict(trainer.loss) if isinstance(trainer.loss, Mapping) else {"": trainer.loss}
    card.loss_name = " + ".join(dict.fromkeys(type(loss).__name__ for loss in losses.values()))
    formats = {getattr(loss, "input_format", None) for loss in losses.values()}
    card.loss_input_format = formats.pop() if len(formats) == 1 else None
    configs = {name: dict(loss.get_config_dict()) for name, loss in losses.items()}
    card.loss_config = configs.get("", configs)
    card.hyperparameters = non_default_hyperparameters(trainer.args)
    state = trainer.state
    card.log_history = [dict(entry) for entry in state.log_history]
    card.best_global_step = _best_step(state)
    card.best_metric = getattr(state, "best_metric", None)
    card.metric_for_best_model = getattr(trainer.args, "metric_for_best_model", None)
    card.evaluation = evaluation_results(trainer.evaluators, evaluator_metrics, card.log_history)
    if card.log_history and "generated_from_trainer" not in card.tags:
        card.tags.append("generated_from_trainer")


# ---------------------------------------------------------------------------------------- rendering helpers
def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        shown = ", ".join(_cell(item) for item in value[:3])
        return f"[{shown}{', …' if len(value) > 3 else ''}]"
    text = _number(value) if isinstance(value, int | float) else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1].rstrip() + "…"


def _hub_id(value: str | None) -> str | None:
    """``value`` when it looks like a Hub model id rather than a local path."""
    if not value or Path(value).exists() or not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", value):
        return None
    return value


def _dataset_link(info: Mapping[str, str | None]) -> str:
    name, dataset_id = info.get("name"), info.get("id")
    if dataset_id:
        return f"[{name or dataset_id}](https://huggingface.co/datasets/{dataset_id})"
    return str(name or "unnamed dataset")


def _title(card: ModelCardData) -> str:
    if card.model_name:
        return card.model_name
    base = _hub_id(card.base_model)
    return f"Reranker based on {base}" if base else "crossrank reranker"


# ---------------------------------------------------------------------------------------- sections
def front_matter(card: ModelCardData) -> dict[str, Any]:
    """The YAML metadata the Hub reads: tags, base model, datasets, metrics and the ``model-index``."""
    loss_tag = [f"loss:{name}" for name in card.loss_name.split(" + ")] if card.loss_name else []
    tags = list(dict.fromkeys(["cross-encoder", "reranker", "crossrank", "text-ranking", *card.tags, *loss_tag]))
    datasets = [d["id"] for d in (*card.train_datasets, *card.eval_datasets) if d.get("id")]
    primary = [r.short(r.primary_metric) for r in card.evaluation if r.primary_metric]
    metrics = primary or [r.short(k) for r in card.evaluation for k in r.metrics]
    data: dict[str, Any] = {
        "language": card.language, "license": card.license, "library_name": "crossrank",
        "pipeline_tag": "text-ranking", "tags": tags, "base_model": _hub_id(card.base_model),
        "datasets": list(dict.fromkeys(datasets)) or None, "metrics": list(dict.fromkeys(metrics)) or None,
    }
    if card.evaluation:
        data["model-index"] = [{"name": _title(card), "results": [_model_index_result(r) for r in card.evaluation]}]
    return {key: value for key, value in data.items() if value is not None}


def _model_index_result(result: EvaluationResult) -> dict[str, Any]:
    name = result.name or "evaluation"
    return {
        "task": {"type": TASK_TYPES.get(result.description, "text-ranking"), "name": result.description},
        "dataset": {"name": name, "type": result.dataset_id or name},
        "metrics": [
            {"type": result.short(key), "value": round(value, 4), "name": result.short(key)}
            for key, value in result.metrics.items()
        ],
    }


def _details(card: ModelCardData) -> str:
    base = _hub_id(card.base_model)
    base_text = f"[{base}](https://huggingface.co/{base})" if base else None
    base_text = base_text or ("a local checkpoint" if card.base_model else "unknown")
    outputs = "1 (one relevance score per pair)" if card.num_labels == 1 else f"{card.num_labels} (one score per class)"
    items = [
        ("Model type", "cross-encoder (reranker)"), ("Base model", base_text),
        ("Maximum sequence length", f"{card.max_length} tokens" if card.max_length else None),
        ("Outputs", outputs), ("Activation in `predict`", f"`{card.activation}`" if card.activation else None),
        ("First-stage score fusion", card.fusion),
        ("Training datasets", ", ".join(_dataset_link(d) for d in card.train_datasets) or None),
        ("Language", ", ".join(card.language) if isinstance(card.language, list) else card.language),
        ("License", card.license),
    ]
    return "\n".join(f"- **{label}:** {value}" for label, value in items if value)


def _description(card: ModelCardData) -> str:
    base = _hub_id(card.base_model)
    origin = f" finetuned from [{base}](https://huggingface.co/{base})" if base else ""
    data = ", ".join(_dataset_link(d) for d in card.train_datasets)
    on_data = f" on {data}" if data else ""
    use = ("It reads a (query, document) pair together and returns a relevance score, so it can reorder the "
           "candidates of a first-stage retriever (BM25 or an embedding model) for search and question answering.")
    if card.num_labels > 1:
        use = f"It reads a pair of texts together and scores each of its {card.num_labels} classes."
    return f"A crossrank cross-encoder{origin}{on_data}. {use}"


def _evaluation(card: ModelCardData) -> str:
    if not card.evaluation:
        return "_No evaluator was run; pass `evaluator=` to the Trainer to report metrics here._"
    blocks = []
    for result in card.evaluation:
        rows = []
        for key, value in result.metrics.items():
            name, shown = result.short(key), _number(value)
            rows.append([f"**{name}**", f"**{shown}**"] if key == result.primary_metric else [name, shown])
        title = f"#### {result.description}: {result.name}" if result.name else f"#### {result.description}"
        parts = [title]
        if result.primary_metric:
            direction = "higher" if result.greater_is_better else "lower"
            parts.append(f"Primary metric (bold): `{result.short(result.primary_metric)}`, {direction} is better.")
        if result.config:
            parts.append("Settings: " + ", ".join(f"`{k}={v}`" for k, v in result.config.items()))
        parts.append(markdown_table(["Metric", "Value"], rows))
        blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks)


def _training_data(card: ModelCardData) -> str:
    if not card.dataset_stats:
        return "_No training data statistics were recorded._"
    blocks = []
    for stats in card.dataset_stats:
        source = f" ({_dataset_link({'id': stats.dataset_id})})" if stats.dataset_id else ""
        measured = (f" Statistics over the first {stats.rows_measured} rows."
                    if stats.rows_measured < stats.num_rows else "")
        column_rows = [[f"`{c}`", kind, summary or "-"] for c, kind, summary in stats.columns]
        parts = [f"#### {stats.name}", f"{stats.num_rows} rows{source}.{measured}",
                 markdown_table(["Column", "Type", "Statistics"], column_rows)]
        if stats.label_column and stats.label_distribution:
            parts.append(f"Label distribution (`{stats.label_column}`): {stats.label_distribution}")
        if stats.examples:
            header = [f"`{c}`" for c in stats.examples[0]]
            parts.append(f"First {len(stats.examples)} rows:")
            parts.append(markdown_table(header, [list(row.values()) for row in stats.examples]))
        blocks.append("\n\n".join(parts))
    return "\n\n".join(blocks)


def _loss(card: ModelCardData) -> str:
    if not card.loss_name:
        return "_The loss was not recorded._"
    shape = f" on `{card.loss_input_format}` rows" if card.loss_input_format else ""
    config = json.dumps(card.loss_config, indent=2, sort_keys=True, default=str)
    return f"`{card.loss_name}`{shape}, configured with:\n\n```json\n{config}\n```"


def _hyperparameters(card: ModelCardData) -> str:
    if not card.hyperparameters:
        return "_All training arguments kept their defaults._"
    lines = ["Training arguments that differ from the defaults:", ""]
    lines += [f"- `{key}`: `{value!r}`" for key, value in sorted(card.hyperparameters.items())]
    return "\n".join(lines)


def _training_logs(card: ModelCardData) -> str:
    keys = [f"eval_{r.primary_metric}" for r in card.evaluation if r.primary_metric]
    return model_card_plots.training_log_table(
        card.log_history, keys, card.best_global_step, card.best_metric, card.metric_for_best_model)


def _training_curves(card: ModelCardData) -> str:
    if card.training_curves:
        return "\n\n".join(f"![{caption}]({path})" for caption, path in card.training_curves.items())
    return f"_No training curves: {card.training_curves_note or 'they were not drawn.'}_"


def _versions(card: ModelCardData) -> str:
    versions = card.framework_versions if card.framework_versions is not None else framework_versions()
    return "\n".join(f"- {name}: {version}" for name, version in versions.items())


def _citations(card: ModelCardData) -> str:
    if not card.citations:
        return "_No citation was given; add one with `ModelCardData(citations={title: bibtex})`._"
    return "\n\n".join(f"#### {title}\n\n```bibtex\n{text.strip()}\n```" for title, text in card.citations.items())


# ---------------------------------------------------------------------------------------- entry points
def render_model_card(card_data: ModelCardData, template: str | None = None) -> str:
    """The README.md text for ``card_data``: YAML front matter, then the markdown sections.

    Args:
        card_data: what to describe; ``framework_versions=None`` means the running versions.
        template: a template with ``{front_matter}``, ``{title}``, ... placeholders; defaults to
            ``template.md`` next to this module.
    """
    text = template if template is not None else TEMPLATE_PATH.read_text(encoding="utf-8")
    sections = {
        "front_matter": yaml.safe_dump(front_matter(card_data), sort_keys=False, allow_unicode=True).strip(),
        "title": _title(card_data), "description": _description(card_data), "details": _details(card_data),
        "crossrank_usage": model_card_usage.crossrank_usage(card_data.model_id, bool(card_data.fusion)),
        "transformers_usage": model_card_usage.transformers_usage(
            card_data.model_id, card_data.num_labels, card_data.activation),
        "evaluation": _evaluation(card_data), "training_data": _training_data(card_data), "loss": _loss(card_data),
        "hyperparameters": _hyperparameters(card_data), "training_logs": _training_logs(card_data),
        "training_curves": _training_curves(card_data), "versions": _versions(card_data),
        "citations": _citations(card_data),
    }
    try:
        return text.format_map(sections)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"The model card template could not be filled ({error!r}); expected only the placeholders "
            f"{sorted(sections)} and doubled braces for literal ones. Fix the template."
        ) from error


def write_model_card(
    folder: str | os.PathLike[str], trainer: Any = None, card_data: ModelCardData | None = None,
    evaluator_metrics: Mapping[str, float] | None = None, plots: bool = True,
) -> Path:
    """Write ``README.md`` (and the training-curve PNGs) into a saved model folder; returns the README path.

    Args:
        folder: the saved model folder (must exist).
        trainer: a ``crossrank.Trainer``; its model, data, loss, arguments, logs and evaluators fill the card.
        card_data: user-given fields (copied, never modified); ``ModelCardData()`` when omitted.
        evaluator_metrics: final evaluator metrics (keys with or without ``eval_``); without them the
            last logged evaluator metrics are used.
        plots: draw the loss and primary-metric curves when matplotlib is installed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"write_model_card expected an existing model folder; found no directory at {folder}. "
            "Save the model first (model.save_pretrained(folder))."
        )
    card = copy.deepcopy(card_data) if card_data is not None else ModelCardData()
    if trainer is not None:
        fill_from_trainer(card, trainer, evaluator_metrics)
    elif evaluator_metrics is not None and not card.evaluation:
        card.evaluation = evaluation_results([], evaluator_metrics)
    if plots and card.log_history and not card.training_curves:
        metric = next((r.primary_metric for r in card.evaluation if r.primary_metric), card.metric_for_best_model)
        metric = metric if metric is None or metric.startswith("eval_") else f"eval_{metric}"
        card.training_curves, card.training_curves_note = model_card_plots.draw_training_curves(
            folder, card.log_history, metric)
    if card.framework_versions is None:
        card.framework_versions = framework_versions()
    path = folder / "README.md"
    text = render_model_card(card)
    atomic_file_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    logger.info("Wrote the model card to %s", path)
    return path


__all__ = ["DatasetStats", "EvaluationResult", "ModelCardData", "dataset_statistics", "evaluation_results",
           "fill_from_model", "fill_from_trainer", "framework_versions", "non_default_hyperparameters",
           "render_model_card", "write_model_card"]
