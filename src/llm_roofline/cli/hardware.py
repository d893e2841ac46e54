"""`llm-roofline hardware [FILTER]` and `llm-roofline hardware show NAME`: device presets."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..inputs.hardware import Hardware

EXAMPLE = """examples:
  llm-roofline hardware               # every preset
  llm-roofline hardware a100          # presets whose id, name or alias contains 'a100'
  llm-roofline hardware show h100-sxm
  llm-roofline hardware show ./my-gpu.toml"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "hardware",
        help="list the hardware presets, or show one in detail",
        description="List the built-in device presets (optionally only those matching "
        "FILTER), or `show NAME` for one device's roofs, ridge points and sources. NAME may "
        "also be a .json/.toml device file.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("words", nargs="*", metavar="FILTER | show NAME", help="what to list or show")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .common import list_or_show

    return list_or_show("hardware", list(args.words), listing, show)


def _main_peak(hw: Hardware) -> tuple[str, float] | None:
    """The 16-bit peak most LLM inference runs at (or the device's highest float peak)."""
    for dtype in ("bf16", "fp16", "fp32"):
        if dtype in hw.peak_flops_per_s:
            return dtype, hw.peak_flops_per_s[dtype]
    return None


def listing(filter: str | None) -> str:
    from ..catalog.hardware_catalog import list_hardware
    from ..inputs.units import format_bytes, format_bytes_per_s, format_flops_per_s
    from ..render.table import grid
    from ..render.text import number
    from . import UsageError

    devices = list_hardware(filter)
    if not devices:
        raise UsageError(f"no hardware preset matches {filter!r} (try `llm-roofline hardware`)")
    rows = []
    for hw in devices:
        main = _main_peak(hw)
        rows.append(
            (
                hw.id,
                hw.name,
                f"{format_flops_per_s(main[1])} {main[0]}" if main else "-",
                format_bytes_per_s(hw.bandwidth_bytes_per_s),
                format_bytes(hw.memory_bytes),
                number(hw.ridge_point(main[0])) if main else "-",
            )
        )
    headers = ("id", "name", "16-bit peak", "bandwidth", "memory", "ridge")
    table = grid(headers, rows, (False, False, True, True, True, True))
    return f"{table}\n\n{len(rows)} presets; dense peaks; details: hardware show NAME"


def show(name: str) -> str:
    from ..catalog.hardware_catalog import get_hardware, hardware_record, load_hardware_file
    from ..inputs.units import format_bytes, format_bytes_per_s, format_flops_per_s
    from ..render.table import wrap
    from ..render.text import number
    from . import UsageError

    try:
        if name.lower().endswith((".json", ".toml")):
            hw, record = load_hardware_file(name), None
        else:
            record, hw = hardware_record(name), get_hardware(name)
    except (ValueError, OSError, KeyError) as exc:
        raise UsageError(f"hardware {name!r}: {exc}") from None
    lines = [f"{hw.name}" + (f" ({hw.id})" if hw.id else "")]
    if record and record.get("aliases"):
        lines.append(f"  aliases: {', '.join(record['aliases'])}")
    lines.append("  peaks (dense) and ridge points:")
    for dtype, peak in sorted(hw.peak_flops_per_s.items(), key=lambda kv: -kv[1]):
        ridge = number(hw.ridge_point(dtype))
        lines.append(f"    {dtype:<5} {format_flops_per_s(peak):>15}   ridge {ridge} FLOP/byte")
    lines.append(f"  bandwidth     {format_bytes_per_s(hw.bandwidth_bytes_per_s)}")
    lines.append(f"  memory        {format_bytes(hw.memory_bytes)}")
    if hw.interconnect_bytes_per_s:
        per_dir = format_bytes_per_s(hw.interconnect_bytes_per_s)
        lines.append(f"  interconnect  {per_dir} per direction")
    lines.append(
        f"  achievable    {hw.compute_efficiency:.0%} of peak compute, "
        f"{hw.bandwidth_efficiency:.0%} of peak bandwidth (the 'expected' times)"
    )
    lines += ["", "sources:"]
    sources = record.get("sources", {}) if record else {}
    if sources:
        lines += [wrap(f"{field}: {text}", hang=4) for field, text in sources.items()]
    else:
        lines.append(wrap(hw.source, hang=4))
    if hw.notes:
        lines += ["", wrap(f"notes: {hw.notes}", indent="", hang=2)]
    return "\n".join(lines)
