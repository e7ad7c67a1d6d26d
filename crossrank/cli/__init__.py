"""The ``crossrank`` command line: one module per sub-command, each exposing ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from crossrank.storage.errors import StorageError

COMMANDS: tuple[str, ...] = ("fit", "train", "evaluate", "rank", "mine", "export", "serve")


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _command_module(name: str) -> ModuleType | None:
    """The module of a listed command; None when this installation lacks it (never a silent skip)."""
    try:
        return importlib.import_module(f"crossrank.cli.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"crossrank.cli.{name}":
            return None
        raise


def _add_unavailable(sub: argparse._SubParsersAction, name: str) -> None:
    """A listed command whose module is missing: shown as unavailable, and an error when run."""
    p = sub.add_parser(name, help=f"(unavailable: crossrank.cli.{name} is not installed)", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(unavailable=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crossrank", description="Train, evaluate and use rerankers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = _command_module(name)
        if module is None:
            _add_unavailable(sub, name)
        else:
            module.add_parser(sub)
    return parser


def _quiet_libraries() -> None:
    """Hide the weight-loading progress bars of transformers; crossrank shows its own on long work."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
    try:  # the Hub client logs every failed request of an offline machine; the error line says it once
        from huggingface_hub.utils import logging as hub_logging

        hub_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "unavailable", False):
        print(f"crossrank {args.command}: error: this command is listed but its module crossrank.cli."
              f"{args.command} is missing from this installation; reinstall crossrank (pip install -U crossrank) "
              "or use a version that ships it.", file=sys.stderr)
        return 2
    if extra and args.command != "train":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.overrides = extra
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    _quiet_libraries()
    module = importlib.import_module(f"crossrank.cli.{args.command}")
    try:
        return int(module.run(args) or 0)
    except (CLIError, ValueError, FileNotFoundError, ConnectionError, StorageError, ImportError) as err:
        if args.verbose:
            raise
        print(f"crossrank {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
