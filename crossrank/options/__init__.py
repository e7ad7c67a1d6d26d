"""Typed options: configuration values coerced to (or rejected by) their dataclass field types."""

from __future__ import annotations

from crossrank.options.coerce import OptionError, coerce, coerce_fields, field_hints, from_mapping, unknown_key

__all__ = ["OptionError", "coerce", "coerce_fields", "field_hints", "from_mapping", "unknown_key"]
