"""The command line: parse, load, call one library function, render. No arithmetic here.

Each subcommand lives in its own module of this package and exposes
``add_parser(subparsers)``, which registers its parser with ``func`` set to a function
``(args) -> int``. Heavy imports (the engine, plotting, torch) happen inside those
functions, so ``llm-roofline --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Subcommand modules, in the order `--help` lists them.
COMMANDS = (
    "analyze",
    "compare",
    "plot",
    "models",
    "hardware",
    "classify",
    "measure",
    "validate",
    "serve_curve",
    "sweep",
    "plan",
    "web",
)
DEFAULT_COMMAND = "analyze"  # what `llm-roofline` with no arguments runs

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument: reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse's NoReturn
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="llm-roofline",
        description=(
            "Is LLM prefill compute-bound or memory-bound, and decode? Why, by how much, "
            "and what would change it. With no command: the default analysis "
            "(Llama-3.1-8B on an H100 SXM, batch 1, prompt 2048, 256 output tokens)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  llm-roofline analyze --model llama-3.1-8b --hardware h100-sxm --batch 8",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = _command_module(name)
        if module is not None:
            module.add_parser(sub)
    return parser


def _command_module(name: str):  # type: ignore[no-untyped-def]  # a module object
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:  # a command whose module is not part of this build
        if exc.name == f"{__name__}.{name}":
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list:
        args_list = [DEFAULT_COMMAND]
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help (0) or a usage error (2): a return code, not an exit
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `llm-roofline ... | head` (before OSError, its base class)
        _silence_stdout()
        return 0
    except (UsageError, ValueError, TypeError, OSError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"llm-roofline: error: {message}", file=sys.stderr)
        return EXIT_USAGE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a captured or fake stdout
        pass
