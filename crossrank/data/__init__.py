"""Data: file loading, column roles and validation against a loss, the (B, G) grid and the collator."""

from __future__ import annotations

from crossrank.data.columns import ColumnRoles, resolve_columns, validate_for_loss
from crossrank.data.io import load_dataset_file, save_dataset_file

__all__ = ["ColumnRoles", "resolve_columns", "validate_for_loss", "load_dataset_file", "save_dataset_file"]
