"""`llm-roofline classify`: the seed exercise from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

EXAMPLE = """example:
  llm-roofline classify --d-model 4096 --n-layers 32 --seq-len 512 \\
      --peak-flops 312e12 --peak-bandwidth 2.039e12
  llm-roofline classify --d-model 4096 --n-layers 32 --seq-len 512 --hardware a100-sxm-80gb --json"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "classify",
        help="the seed exercise: prefill vs decode in the 12·d² model",
        description="Classify prefill and decode as compute- or memory-bound in the seed "
        "12·d² model (exact parity with the textbook exercise).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--d-model", type=int, required=True, help="model width d")
    p.add_argument("--n-layers", type=int, required=True, help="number of layers L")
    p.add_argument("--seq-len", type=int, required=True, help="prompt length s (>= 0)")
    p.add_argument("--peak-flops", type=float, help="peak FLOP/s, e.g. 312e12")
    p.add_argument(
        "--peak-bandwidth", type=float, help="memory bandwidth in bytes/s, e.g. 2.039e12"
    )
    p.add_argument("--hardware", help="a hardware preset instead of the two peaks (bf16 peak)")
    p.add_argument("--dtype-bytes", type=float, default=2, help="bytes per element (default 2)")
    p.add_argument("--json", action="store_true", help="print the result dict as JSON")
    p.set_defaults(func=run)


def _peaks(args: argparse.Namespace) -> tuple[float, float]:
    from . import UsageError

    if args.hardware:
        if args.peak_flops is not None or args.peak_bandwidth is not None:
            raise UsageError("give either --hardware or --peak-flops/--peak-bandwidth, not both")
        from ..catalog.hardware_catalog import get_hardware

        hw = get_hardware(args.hardware)
        return hw.peak_for("bf16"), hw.bandwidth_bytes_per_s
    if args.peak_flops is None or args.peak_bandwidth is None:
        raise UsageError("--peak-flops and --peak-bandwidth are required (or give --hardware)")
    return args.peak_flops, args.peak_bandwidth


def run(args: argparse.Namespace) -> int:
    from ..engine.seed import classify_prefill_vs_decode

    peak_flops, peak_bandwidth = _peaks(args)
    result = classify_prefill_vs_decode(
        args.d_model, args.n_layers, args.seq_len, peak_flops, peak_bandwidth, args.dtype_bytes
    )
    if args.json:
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
