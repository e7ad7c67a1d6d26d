"""The model card: ``ModelCardData`` filled from a model and a trainer, rendered to a README.md.

``card.py`` collects and renders, ``plots.py`` draws the curves and tables, ``usage.py`` holds the code
snippets, ``template.md`` only places the finished sections.
"""

from __future__ import annotations

from crossrank.model_card.card import (
    DatasetStats,
    EvaluationResult,
    ModelCardData,
    dataset_statistics,
    evaluation_results,
    fill_from_model,
    fill_from_trainer,
    framework_versions,
    non_default_hyperparameters,
    render_model_card,
    write_model_card,
)

__all__ = ["DatasetStats", "EvaluationResult", "ModelCardData", "dataset_statistics", "evaluation_results",
           "fill_from_model", "fill_from_trainer", "framework_versions", "non_default_hyperparameters",
           "render_model_card", "write_model_card"]
