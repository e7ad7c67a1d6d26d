"""Command-line flags generated from a dataclass's fields: names, types, defaults and help in one place.

``add_flags(parser, MiningConfig)`` gives ``--num-negatives``, ``--output-format`` ... with the field's
default and its ``metadata["help"]``; ``metadata["flags"]`` adds aliases (``--anchor-column``). Flags
hand over the typed text; the dataclass is then built with :func:`crossrank.options.coerce.from_mapping`,
so a flag accepts exactly what the YAML key accepts and a bad value is the same one-line error.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Collection
from typing import Any

from crossrank.options.coerce import field_hints, type_name


def flag_name(field_name: str) -> str:
    """``num_negatives`` -> ``--num-negatives``."""
    return "--" + field_name.replace("_", "-")


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
              exclude: Collection[str] = ()) -> list[str]:
    """Add one flag per init field of dataclass ``cls`` (except ``exclude``); returns the field names.

    Booleans defaulting to False become switches (``--use-faiss``); other flags take one value (``none``
    for None). Every flag's default is ``argparse.SUPPRESS``, so :func:`given_values` returns only what was
    typed and the dataclass keeps its own defaults.
    """
    names, hints = [], field_hints(cls)
    for field in dataclasses.fields(cls):
        if not field.init or field.name in exclude:
            continue
        hint = hints[field.name]
        flags = [flag_name(field.name), *field.metadata.get("flags", ())]
        default = field.default if field.default is not dataclasses.MISSING else None
        text = field.metadata.get("help", "")
        if hint is bool and default is False:
            parser.add_argument(*flags, dest=field.name, action="store_true", default=argparse.SUPPRESS, help=text)
        else:
            choices = typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else ()
            metavar = "|".join(map(str, choices)) if choices else type_name(hint).split(" or ")[0].upper()
            shown = text if default is None else f"{text} (default: {default})" if text else f"default: {default}"
            parser.add_argument(*flags, dest=field.name, default=argparse.SUPPRESS, metavar=metavar, help=shown)
        names.append(field.name)
    return names


def given_values(args: argparse.Namespace, names: Collection[str]) -> dict[str, Any]:
    """The values of ``names`` that were given on the command line (``none``/``null`` read as None)."""
    values = {name: getattr(args, name) for name in names if hasattr(args, name)}
    return {k: None if isinstance(v, str) and v.lower() in ("none", "null") else v for k, v in values.items()}
