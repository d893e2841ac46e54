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

# Each command as typed, and the module of this package that registers it, in the order
# `--help` lists them.
COMMANDS = {
    "analyze": "analyze",
    "compare": "compare",
    "plot": "plot",
    "models": "models",
    "hardware": "hardware",
    "classify": "classify",
    "measure": "measure",
    "validate": "validate",
    "serve-curve": "serve_curve",
    "sweep": "sweep",
    "plan": "plan",
    "web": "web",
    "serve": "app",
    "completion": "completion",
}
DEFAULT_COMMAND = "analyze"  # what `llm-roofline` with no arguments (or only flags) runs

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

# The optional extra that provides each optional import (pyproject's optional-dependencies).
EXTRAS = {"torch": "torch", "numpy": "measure", "matplotlib": "plot", "transformers": "hf"}
_TOP_FLAGS = ("-h", "--help", "--version")


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
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS.values():
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


def _version() -> str:
    # The top-level package is imported before any of its subpackages, so its version is
    # read from it rather than imported (cli may not import the package that re-exports it).
    return str(getattr(sys.modules["llm_roofline"], "__version__", "unknown"))


def command_names() -> list[str]:
    """The commands as typed (``serve-curve``, not the module name)."""
    return list(COMMANDS)


def normalize_argv(argv: list[str]) -> list[str]:
    """The default command for bare flags (``llm-roofline --batch 8`` is ``analyze --batch 8``).

    Raises UsageError for a command that does not exist (with the closest ones) and for a
    flag given an empty value or ``--`` (``--hardware=--``), naming the flag.
    """
    for arg in argv:
        flag, equals, value = arg.partition("=")
        if arg.startswith("--") and equals and value.strip() in ("", "--"):
            raise UsageError(f"argument {flag}: expected a value, got {value!r}")
    if not argv or (argv[0].startswith("-") and argv[0] not in _TOP_FLAGS):
        return [DEFAULT_COMMAND, *argv]
    if not argv[0].startswith("-") and argv[0] not in command_names():
        import difflib

        close = difflib.get_close_matches(argv[0], command_names(), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise UsageError(
            f"unknown command {argv[0]!r}; {hint}commands: {', '.join(command_names())}"
        )
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's code for SIGINT
        print("\nllm-roofline: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args_list: list[str]) -> int:
    try:
        args_list = normalize_argv(args_list)
    except UsageError as exc:
        print(f"llm-roofline: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser()
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
    except ModuleNotFoundError as exc:  # an optional extra that is not installed
        top = (exc.name or "").partition(".")[0]
        if top not in EXTRAS:
            raise
        print(f"llm-roofline: error: {missing_extra(top, args.command)}", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, ValueError, TypeError, OSError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"llm-roofline: error: {message}", file=sys.stderr)
        return EXIT_USAGE


def missing_extra(module: str, command: str | None = None) -> str:
    """'validate needs torch, which is not installed: pip install 'llm-roofline[torch]''."""
    who = f"{command} needs" if command else "this needs"
    text = f"{who} {module}, which is not installed: pip install 'llm-roofline[{EXTRAS[module]}]'"
    if command == "measure" and module == "torch":
        text += " (or 'llm-roofline[measure]' to measure with numpy alone)"
    return text


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a captured or fake stdout
        pass
