"""The ``crossrank`` command line: one module per sub-command, each exposing ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = ("train", "evaluate", "rank", "mine", "export", "serve")


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crossrank", description="Train, evaluate and use rerankers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"crossrank.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"crossrank.cli.{name}":
                continue
            raise
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
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
    except (CLIError, ValueError, FileNotFoundError, ConnectionError, ImportError) as err:
        if args.verbose:
            raise
        print(f"crossrank {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
