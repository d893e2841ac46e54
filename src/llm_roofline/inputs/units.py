"""The one place human units are converted: parsing to SI floats, and formatting back.

Decimal prefixes are powers of 1000 (GB = 1e9 bytes, TB/s = 1e12 bytes/s); binary
prefixes carry an ``i`` (GiB = 2^30 bytes). The two are never mixed. A capital ``B`` is
a byte; bits must be spelled ``bit`` (``400 Gbit/s``), because ``Gb/s`` versus ``GB/s``
is a factor of 8 that a typo should not be able to introduce.

Parsers take the field name first so that every error names the field and the value.
"""

from __future__ import annotations

import math
import re
from typing import Any

_DECIMAL = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
_BINARY = {"ki": 2.0**10, "mi": 2.0**20, "gi": 2.0**30, "ti": 2.0**40, "pi": 2.0**50}

# A number (with optional exponent) then an optional unit made of letters and '/'.
_QUANTITY = re.compile(
    r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[A-Za-z/]*)\s*$"
)
_PREFIX = r"(?P<prefix>[kKmMgGtTpPeE]?i?)"
_FLOPS_UNIT = re.compile(rf"^{_PREFIX}(?:flop/s|flops|op/s|ops|)$", re.IGNORECASE)
_BYTES_UNIT = re.compile(rf"^{_PREFIX}(?P<base>B|bytes?|bits?|)$")
_RATE_UNIT = re.compile(rf"^{_PREFIX}(?P<base>B/s|Bps|bytes?/s|bits?/s|bps|)$")


def _scale(prefix: str) -> float | None:
    key = prefix.lower()
    return _BINARY.get(key) if key.endswith("i") else _DECIMAL.get(key)


def _parse(field: str, value: Any, pattern: re.Pattern[str], what: str, examples: str) -> float:
    """A positive finite SI float from a number or a '<number> <unit>' string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{field} must be a number or a string like {examples}; got {value!r}")
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        unit_match = pattern.match(match.group("unit")) if match else None
        scale = _scale(unit_match.group("prefix")) if unit_match else None
        if match is None or unit_match is None or scale is None:
            hint = ""
            if match and re.fullmatch(r"[A-Za-z]*b(/s|ps)?", match.group("unit")):
                hint = " (a lowercase 'b' is ambiguous: write B for bytes or 'bit' for bits)"
            raise ValueError(
                f"{field}: cannot read {value!r} as {what}{hint}; examples: {examples}"
            )
        base = unit_match.groupdict().get("base") or ""
        number = float(match.group("number")) * scale
        if base.lower().startswith("bit") or base == "bps":
            number /= 8.0
    else:
        number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{field} must be a finite number > 0, got {value!r}")
    return number


def parse_flops_per_s(field: str, value: Any) -> float:
    """FLOP/s (or OP/s for integer dtypes) from ``989.4 TFLOP/s``, ``989.4T``, ``312e12``."""
    return _parse(
        field, value, _FLOPS_UNIT, "FLOP/s", "'989.4 TFLOP/s', '989.4T', '1979 TOPS', '312e12'"
    )


def parse_bytes_per_s(field: str, value: Any) -> float:
    """Bytes/s from ``3.35 TB/s``, ``3350GB/s``, ``900 GiB/s``, ``400 Gbit/s``, ``3.35e12``."""
    return _parse(
        field, value, _RATE_UNIT, "bytes/s", "'3.35 TB/s', '3350GB/s', '900 GiB/s', '3.35e12'"
    )


def parse_bytes(field: str, value: Any) -> float:
    """Bytes from ``80GB``, ``80 GiB``, ``192 GB``, ``8e10``."""
    return _parse(field, value, _BYTES_UNIT, "bytes", "'80GB', '80 GiB', '192 GB', '8e10'")


_PREFIXES = ("", "k", "M", "G", "T", "P", "E")


def _format_si(value: float, unit: str) -> str:
    """Decimal prefix so the mantissa lies in [1, 1000): '3.35 TB', '13.5 GB', '989.4 TFLOP'."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {unit}"
    magnitude = abs(value)
    index = min(max(math.floor(math.log10(magnitude) / 3), 0), len(_PREFIXES) - 1)
    while True:
        mantissa = value / 1000.0**index
        text = f"{mantissa:.2f}" if abs(mantissa) < 10 else f"{mantissa:.1f}"
        if abs(float(text)) < 1000 or index == len(_PREFIXES) - 1:
            return f"{text} {_PREFIXES[index]}{unit}"
        index += 1  # rounding carried 999.96 to 1000.0: use the next prefix


def format_flops(value: float) -> str:
    """'989.4 TFLOP'."""
    return _format_si(value, "FLOP")


def format_flops_per_s(value: float) -> str:
    """'989.4 TFLOP/s'."""
    return _format_si(value, "FLOP/s")


def format_bytes(value: float) -> str:
    """'13.5 GB' (decimal: 1 GB = 1e9 bytes)."""
    return _format_si(value, "B")


def format_bytes_per_s(value: float) -> str:
    """'3.35 TB/s'."""
    return _format_si(value, "B/s")


_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def format_seconds(value: float) -> str:
    """'1.20 s', '12.3 ms', '850 µs': three significant figures, seconds at most."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g} s"
    for index, (scale, unit) in enumerate(_TIME_UNITS):
        if abs(value) >= scale or index == len(_TIME_UNITS) - 1:
            mantissa = value / scale
            if abs(mantissa) < 10:
                text = f"{mantissa:.2f}"
            elif abs(mantissa) < 100:
                text = f"{mantissa:.1f}"
            else:
                text = f"{mantissa:.0f}"
            if abs(float(text)) >= 1000 and index > 0:  # 999.6 µs rounds to 1000: use ms
                return format_seconds(math.copysign(_TIME_UNITS[index - 1][0], value))
            return f"{text} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover
