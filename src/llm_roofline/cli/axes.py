"""Grid values on the command line, for `sweep` and `plan`: comma lists and ranges.

    8            one value
    1,8,64       a list
    1..512       powers of two from 1 up to 512 (the start doubled while <= the end)
    1..64:1      every integer from 1 to 64 (:k steps by k)
    1,2,16..64   lists and ranges mixed

Each parser is an argparse type, so a bad value is reported as ``argument --batch: ...``
(exit 2), naming the flag and the value.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .common import split_list

MAX_VALUES = 1_000_000  # one flag's values (a typo such as 1..10000000:1 is refused)


def _int(text: str, minimum: int) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def _range(text: str, minimum: int) -> list[int]:
    """'a..b' (a, 2a, 4a, ... <= b) or 'a..b:k' (a, a+k, ... <= b)."""
    span, _, step_text = text.partition(":")
    start_text, _, stop_text = span.partition("..")
    start, stop = _int(start_text, minimum), _int(stop_text, minimum)
    if stop < start:
        raise argparse.ArgumentTypeError(f"range {text!r} ends before it starts")
    if step_text:
        step = _int(step_text, 1)
        if (stop - start) // step + 1 > MAX_VALUES:
            raise argparse.ArgumentTypeError(f"range {text!r} has more than {MAX_VALUES:,} values")
        return list(range(start, stop + 1, step))
    if start == 0:
        raise argparse.ArgumentTypeError(f"range {text!r}: powers of two cannot start at 0")
    values = [start]
    while values[-1] * 2 <= stop:
        values.append(values[-1] * 2)
    return values


def int_grid(minimum: int = 1) -> Callable[[str], list[int]]:
    """An argparse type: a comma list of whole numbers and ranges, each >= ``minimum``."""

    def parse(text: str) -> list[int]:
        values: list[int] = []
        for part in split_list(text):
            values += _range(part, minimum) if ".." in part else [_int(part, minimum)]
        if not values:
            raise argparse.ArgumentTypeError(
                f"expected values such as 1,8,64 or 1..512, got {text!r}"
            )
        if len(values) > MAX_VALUES:
            raise argparse.ArgumentTypeError(f"more than {MAX_VALUES:,} values")
        return list(dict.fromkeys(values))  # in the order given, duplicates dropped

    return parse


def dtype_grid(options: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse type: a comma list of dtype names, each normalized."""
    from ..inputs.dtypes import normalize

    def parse(text: str) -> list[str]:
        names = split_list(text)
        if not names:
            raise argparse.ArgumentTypeError(f"expected dtype names, got {text!r}")
        try:
            return list(dict.fromkeys(normalize("dtype", name, options) for name in names))
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def text_grid(text: str) -> list[str]:
    """An argparse type: a comma list of names."""
    names = split_list(text)
    if not names:
        raise argparse.ArgumentTypeError(f"expected names, got {text!r}")
    return names
