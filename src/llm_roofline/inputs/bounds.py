"""The plausible range of every input quantity, in one table, and the checks that use it.

A value outside its range is almost always a mistake (a unit left out, a digit too many)
and would make the arithmetic return infinite or meaningless answers, so it is refused
with one error naming the field, the value and the range. The ranges are generous on
purpose: every real device and model lies well inside them.

    quantity      range                          why the ends are where they are
    bandwidth     1 GB/s .. 100 TB/s             a phone's DRAM .. 10x an HBM4 stack set
    interconnect  100 MB/s .. 100 TB/s           1 Gbit Ethernet .. 50x NVLink 5
    peak          1 GFLOP/s .. 100 PFLOP/s       one slow CPU core .. 10x a B200's fp4 peak
    memory        1 MB .. 100 TB                 an L2 cache .. 400x an MI355X
    layers        1 .. 10,000                    the deepest published model has 126
    widths        1 .. 2^20 (1,048,576)          hidden, intermediate, head_dim, latent ranks
    heads         1 .. 65,536
    vocabulary    1 .. 2^24 (16,777,216)         the largest published has 262,144
    experts       1 .. 65,536                    the most in a preset: 256
    batch         1 .. 10^7 sequences
    lengths       0 .. 10^8 tokens               prompts, contexts, outputs, windows, chunks
    spec-k        1 .. 64 draft tokens
    degrees       1 .. 65,536                    tensor, pipeline, expert, data
    efficiencies  (0, 1]

A bare number that is implausible only because its unit is missing ("80" as memory,
"3.35" as bandwidth, "989" as a peak) gets a hint with the unit that makes it typical:
``did you mean 80GB?``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

_PREFIXES = ("", "k", "M", "G", "T", "P", "E")


@dataclass(frozen=True)
class Bound:
    """The closed range [low, high] of one quantity (``low_open``: (low, high])."""

    low: float
    high: float
    unit: str = ""  # "B", "B/s", "FLOP/s" for physical quantities; "" for counts
    typical: float = 0.0  # a value typical of the quantity: where a unit hint aims
    low_open: bool = False

    def contains(self, value: float) -> bool:
        above_low = value > self.low if self.low_open else value >= self.low
        return above_low and value <= self.high

    def describe(self) -> str:
        """'1 GB/s to 100 TB/s', '1 to 10,000', '(0, 1]'."""
        if self.low_open:
            return f"({_plain(self.low)}, {_plain(self.high)}]"
        if self.unit:
            return f"{si(self.low, self.unit)} to {si(self.high, self.unit)}"
        return f"{_plain(self.low)} to {_plain(self.high)}"


BANDWIDTH = Bound(1e9, 1e14, "B/s", typical=2e12)
INTERCONNECT = Bound(1e8, 1e14, "B/s", typical=2e11)
PEAK_FLOPS = Bound(1e9, 1e17, "FLOP/s", typical=5e14)
MEMORY = Bound(1e6, 1e14, "B", typical=8e10)
EFFICIENCY = Bound(0.0, 1.0, low_open=True)
LAYERS = Bound(1, 10_000)
WIDTH = Bound(1, 2**20)
HEADS = Bound(1, 65_536)
VOCABULARY = Bound(1, 2**24)
EXPERTS = Bound(1, 65_536)
BATCH = Bound(1, 10**7)
TOKENS = Bound(0, 10**8)
SPEC_K = Bound(1, 64)
DEGREE = Bound(1, 65_536)
NORMS_PER_LAYER = Bound(0, 16)


def si(value: float, unit: str = "") -> str:
    """'80 GB', '3.35 TB/s', '1 GFLOP/s': three significant figures, decimal prefix."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}".rstrip()
    index = min(max(math.floor(math.log10(abs(value)) / 3), 0), len(_PREFIXES) - 1)
    return f"{value / 1000.0**index:.3g} {_PREFIXES[index]}{unit}".rstrip()


def _plain(value: float) -> str:
    """'10,000', '1,048,576', '0.5'."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def show(value: Any) -> str:
    """A value for an error message; an integer too long to print in full is summarized."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits:,} digits"
    if isinstance(value, str) and len(value) > 40:
        return repr(value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unit_hint(value: float, bound: Bound) -> str:
    """'; did you mean 80GB?' when ``value`` with a decimal prefix is a typical amount."""
    if not bound.unit or not 0 < value < bound.low or not bound.typical:
        return ""
    best: tuple[float, str] | None = None
    for index in range(1, len(_PREFIXES)):
        scaled = value * 1000.0**index
        if bound.contains(scaled):
            distance = abs(math.log10(scaled / bound.typical))
            if best is None or distance < best[0]:
                best = (distance, f"{value:g}{_PREFIXES[index]}{bound.unit}")
    return f"; did you mean {best[1]}?" if best else ""


def _out_of_range(field: str, value: Any, bound: Bound, number: float | None) -> ValueError:
    if bound.low_open:  # a fraction: 'compute_efficiency must be in (0, 1], got 1.5'
        return ValueError(f"{field} must be in {bound.describe()}, got {show(value)}")
    unit = f" {bound.unit}" if bound.unit else ""
    hint = unit_hint(number, bound) if number is not None else ""
    text = show(value)
    if isinstance(value, float) and float(f"{value:g}") == value:
        text = f"{value:g}"  # 80, not 80.0; 3.35e+12 as it was given
    return ValueError(
        f"{field} = {text}{unit} is outside the plausible range {bound.describe()}{hint}"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def quantity(field: str, value: Any, bound: Bound) -> float:
    """A finite float inside ``bound``; TypeError for a non-number, ValueError outside."""
    if not _is_number(value):
        raise TypeError(f"{field} must be a number, got {show(value)} ({type(value).__name__})")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise _out_of_range(field, value, bound, None) from None
    if not math.isfinite(number):
        raise ValueError(f"{field} must be finite, got {show(value)}")
    if not bound.contains(number):
        raise _out_of_range(field, value, bound, number)
    return number


def count(field: str, value: Any, bound: Bound) -> int:
    """A whole number inside ``bound``, normalized to ``int`` (4096.0 -> 4096; 4096.5 refused)."""
    if not _is_number(value):
        raise TypeError(
            f"{field} must be a whole number, got {show(value)} ({type(value).__name__})"
        )
    if isinstance(value, numbers.Integral):
        whole = int(value)
    else:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{field} must be finite, got {show(value)}")
        if not number.is_integer():
            raise ValueError(f"{field} must be a whole number, got {show(value)}")
        whole = int(number)
    if not bound.contains(whole):
        raise ValueError(
            f"{field} = {show(whole)} is outside the plausible range {bound.describe()}"
        )
    return whole
