"""`llm-roofline classify`: the seed exercise from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

EXAMPLE = """example:
  llm-roofline classify --d-model 4096 --n-layers 32 --seq-len 512 \\
      --peak-flops 312e12 --peak-bandwidth 2.039e12
  llm-roofline classify --d-model 4096 --n-layers 32 --seq-len 512 --peak-flops 312T \\
      --peak-bandwidth '2.039 TB/s'
  llm-roofline classify --d-model 4096 --n-layers 32 --seq-len 512 --hardware a100-sxm-80gb \\
      --format json"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "classify",
        help="the seed exercise: prefill vs decode in the 12·d² model",
        description="Classify prefill and decode as compute- or memory-bound in the seed "
        "12·d² model (exact parity with the textbook exercise).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from ..inputs.bounds import BANDWIDTH, LAYERS, PEAK_FLOPS, TOKENS, WIDTH, Bound
    from ..inputs.units import parse_bytes_per_s, parse_flops_per_s
    from .common import int_at_least, quantity, text_value

    add = p.add_argument
    add("--d-model", type=int_at_least(1, WIDTH), required=True, metavar="D", help="model width d")
    add("--n-layers", type=int_at_least(1, LAYERS), required=True, metavar="L", help="layers L")
    add(
        "--seq-len",
        type=int_at_least(0, TOKENS),
        required=True,
        metavar="S",
        help="prompt length s",
    )
    add(
        "--peak-flops",
        type=quantity(parse_flops_per_s, PEAK_FLOPS),
        metavar="FLOPS",
        help="peak FLOP/s, e.g. 312e12, '312T' or '312 TFLOP/s'",
    )
    add(
        "--peak-bandwidth",
        "--bandwidth",
        dest="peak_bandwidth",
        type=quantity(parse_bytes_per_s, BANDWIDTH),
        metavar="BYTES/S",
        help="memory bandwidth, e.g. 2.039e12, '2.039 TB/s' or '2039GB/s'",
    )
    add(
        "--hardware",
        type=text_value,
        metavar="DEVICE",
        help="a preset or device file instead of the two peaks (its 16-bit peak)",
    )
    add(
        "--dtype-bytes",
        type=bytes_per_element(Bound(0.0, 32.0, low_open=True)),
        default=2,
        help="bytes per element (default 2)",
    )
    add("--format", choices=("text", "json"), default="text", help="text (default) or json")
    add("--json", action="store_true", help="the same as --format json")
    p.set_defaults(func=run)


def bytes_per_element(bound: Any) -> Any:
    """An argparse type: a number of bytes per element inside ``bound`` (0.5 for 4-bit)."""
    from ..inputs.bounds import quantity

    def parse(text: str) -> float:
        try:
            return quantity("value", float(text), bound)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(
                f"expected a number of bytes in {bound.describe()}, got {text!r}"
            ) from None

    return parse


def _peaks(args: argparse.Namespace) -> tuple[float, float]:
    from . import UsageError

    if args.hardware:
        if args.peak_flops is not None or args.peak_bandwidth is not None:
            raise UsageError("give either --hardware or --peak-flops/--peak-bandwidth, not both")
        from ..catalog.hardware_catalog import resolve_hardware
        from .common import one_name

        spec = one_name("--hardware", args.hardware, "device", "compare")
        try:
            hw = resolve_hardware(spec)
            return hw.peak_for("bf16"), hw.bandwidth_bytes_per_s
        except (ValueError, OSError, KeyError) as exc:
            raise UsageError(f"--hardware {spec!r}: {exc}") from None
    if args.peak_flops is None or args.peak_bandwidth is None:
        raise UsageError("--peak-flops and --peak-bandwidth are required (or give --hardware)")
    return args.peak_flops, args.peak_bandwidth


def run(args: argparse.Namespace) -> int:
    from ..engine.seed import classify_prefill_vs_decode

    peak_flops, peak_bandwidth = _peaks(args)
    result = classify_prefill_vs_decode(
        args.d_model, args.n_layers, args.seq_len, peak_flops, peak_bandwidth, args.dtype_bytes
    )
    if args.json or args.format == "json":
        print(json.dumps(result))
        return 0
    ridge = result["ridge_point"]
    for phase in ("prefill", "decode"):
        r = result[phase]
        print(
            f"{phase:8s} {r['classification']:14s} AI {r['arithmetic_intensity']} FLOP/byte "
            f"vs ridge point {ridge} FLOP/byte"
        )
    return 0
