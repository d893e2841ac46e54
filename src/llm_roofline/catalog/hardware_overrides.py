"""Overriding a device's figures (the CLI's --peak-flops, --bandwidth, --memory).

Each replacement is an SI number or a human-unit string ("3 TB/s", "989T"), converted by
``units``; the changed fields are named in the returned device's notes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..inputs import units
from ..inputs.dtypes import COMPUTE_DTYPES, normalize
from ..inputs.hardware import Hardware


@dataclasses.dataclass(frozen=True)
class HardwareOverrides:
    """Replacement figures, each an SI number or a human-unit string ("3 TB/s", "989T")."""

    peak_flops_per_s: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    bandwidth_bytes_per_s: Any = None
    memory_bytes: Any = None
    interconnect_bytes_per_s: Any = None
    compute_efficiency: float | None = None
    bandwidth_efficiency: float | None = None


def parse_peak_assignment(text: str) -> tuple[str, float]:
    """'bf16=989.4T' -> ('bf16', 9.894e14), for a CLI flag such as ``--peak``."""
    dtype, sep, value = text.partition("=") if isinstance(text, str) else ("", "", "")
    if not sep or not dtype.strip():
        raise ValueError(f"peak override must look like 'bf16=989.4T', got {text!r}")
    canonical = normalize("peak override dtype", dtype, COMPUTE_DTYPES)
    return canonical, units.parse_flops_per_s(f"peak_flops_per_s.{canonical}", value)


def apply_overrides(
    hardware: Hardware, overrides: HardwareOverrides | Mapping[str, Any]
) -> Hardware:
    """A copy of ``hardware`` with the given figures replaced (and named in its notes)."""
    if isinstance(overrides, Mapping):
        known = {f.name for f in dataclasses.fields(HardwareOverrides)}
        for key in overrides:
            if key not in known:
                raise ValueError(
                    f"unknown hardware override {key!r}; known: {', '.join(sorted(known))}"
                )
        overrides = HardwareOverrides(**overrides)
    if not isinstance(overrides.peak_flops_per_s, Mapping):
        raise ValueError(
            f"peak overrides must map dtypes to FLOP/s, got {overrides.peak_flops_per_s!r}"
        )
    peaks = dict(hardware.peak_flops_per_s)
    changed: dict[str, Any] = {}
    for dtype, value in overrides.peak_flops_per_s.items():
        canonical = normalize("peak override dtype", dtype, COMPUTE_DTYPES)
        peaks[canonical] = units.parse_flops_per_s(f"peak_flops_per_s.{canonical}", value)
        changed[f"peak_flops_per_s.{canonical}"] = value
    updates: dict[str, Any] = {"peak_flops_per_s": peaks}
    parsers = {
        "bandwidth_bytes_per_s": units.parse_bytes_per_s,
        "memory_bytes": units.parse_bytes,
        "interconnect_bytes_per_s": units.parse_bytes_per_s,
    }
    for field, parse in parsers.items():
        value = getattr(overrides, field)
        if value is not None:
            updates[field] = parse(field, value)
            changed[field] = value
    for field in ("compute_efficiency", "bandwidth_efficiency"):
        value = getattr(overrides, field)
        if value is not None:
            updates[field] = value
            changed[field] = value
    if changed:
        listed = ", ".join(f"{field}={value}" for field, value in changed.items())
        updates["notes"] = f"{hardware.notes} User overrides: {listed}.".strip()
    try:
        return dataclasses.replace(hardware, **updates)
    except TypeError as error:
        raise ValueError(str(error)) from None
