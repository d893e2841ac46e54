"""Argparse value types: each parses one flag's text, and each error names the flag.

Numbers are checked against their plausible range (``inputs/bounds.py``) as they are
parsed, so ``--memory 80`` is ``argument --memory: 80 B is outside the plausible range
1 MB to 100 TB; did you mean 80GB?`` (exit 2) before any work starts. Only light modules
are imported here: ``--help`` must stay fast.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..inputs.bounds import Bound, count
from ..inputs.bounds import quantity as quantity_in
from ..inputs.checks import MAX_EXACT_INT

_WHOLE = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 16  # 2^53 has 16 digits: longer numbers are out of every range


def int_at_least(minimum: int, bound: Bound | None = None) -> Callable[[str], int]:
    """An argparse type: one whole number >= ``minimum`` and inside ``bound``.

    Digits only: ``1,2`` is not 12 (nor a list: flags that take lists say so), and ``4k``,
    ``1_000`` and ``1e3`` are refused rather than guessed at.
    """

    def parse(text: str) -> int:
        digits = text.strip()
        if not _WHOLE.fullmatch(digits):
            hint = " (one value: a list is not accepted here)" if "," in text else ""
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}{hint}")
        if len(digits.lstrip("+-0")) > _MAX_DIGITS:  # no need to convert 400 digits to know
            raise argparse.ArgumentTypeError(
                f"{_short(text)} is outside the plausible range "
                f"{(bound or Bound(minimum, MAX_EXACT_INT)).describe()}"
            )
        value = int(digits)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if bound is not None:
            try:
                return count("value", value, bound)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(_unlabel(exc)) from None
        return value

    return parse


def text_value(text: str) -> str:
    """An argparse type: a non-empty value (``--hardware=`` or ``--model ' '`` is an error)."""
    if not text.strip() or text.strip() == "--":
        raise argparse.ArgumentTypeError(f"expected a value, got {text!r}")
    return text


def _short(text: str) -> str:
    return repr(text) if len(text) <= 24 else f"a number of {len(text.strip())} digits"


def _unlabel(exc: BaseException) -> str:
    """'value = 80 B is outside ...' -> '80 B is outside ...' (argparse names the flag)."""
    return str(exc).removeprefix("value = ").removeprefix("value: ").removeprefix("value ")


def dtype(options: tuple[str, ...] | None = None) -> Callable[[str], str]:
    """An argparse type: a dtype name, normalized (``bfloat16`` -> ``bf16``)."""
    from ..inputs.dtypes import STORAGE_DTYPES, normalize

    def parse(text: str) -> str:
        try:
            return normalize("dtype", text, options or STORAGE_DTYPES)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def quantity(
    parse_unit: Callable[[str, Any], float], bound: Bound | None = None
) -> Callable[[str], float]:
    """An argparse type: a quantity in SI or human units ('3.35 TB/s', '80GB') inside ``bound``.

    A bare number that fits only with a unit is refused with the unit suggested
    ('80' as memory: did you mean 80GB?).
    """

    def parse(text: str) -> float:
        try:
            value = parse_unit("value", text)
            return value if bound is None else quantity_in("value", value, bound)
        except (TypeError, ValueError) as exc:  # "value: cannot read ..." -> "cannot read ..."
            raise argparse.ArgumentTypeError(_unlabel(exc)) from None

    return parse


def peak(text: str) -> tuple[str | None, float]:
    """``--peak-flops``: '989T' (the workload's compute dtype) or 'fp8=1979T' (that dtype)."""
    from ..catalog.hardware_catalog import parse_peak_assignment
    from ..inputs.bounds import PEAK_FLOPS
    from ..inputs.units import parse_flops_per_s

    try:
        if "=" in text:
            dtype_name, value = parse_peak_assignment(text)
        else:
            dtype_name, value = None, parse_flops_per_s("value", text)
        return dtype_name, quantity_in("value", value, PEAK_FLOPS)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(_unlabel(exc)) from None


def plot_file(text: str) -> str:
    """An argparse type: a plot path ending in .png or .svg (checked before any work)."""
    from ..render.plot import plot_format

    try:
        plot_format(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return writable_file(text)


def writable_file(text: str) -> str:
    """An argparse type: a file that can be written (its folder exists), checked before work."""
    path = Path(text_value(text)).expanduser()
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: no such directory {str(folder)!r}"
        )
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: directory {str(folder)!r} is not writable"
        )
    return text


def split_list(text: str) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']."""
    return [part.strip() for part in text.split(",") if part.strip()]


def names_list(text: str) -> list[str]:
    """A list flag's names: a path that exists as a whole is one name, commas and all."""
    if "," in text and Path(text.strip()).expanduser().exists():
        return [text.strip()]
    return split_list(text)
