"""`llm-roofline measure`: measure this machine and write a hardware profile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXAMPLE = """examples:
  llm-roofline measure --out my-cpu.json                  # torch on the CPU, fp32 and bf16
  llm-roofline measure --device cuda --dtypes bf16,fp16 --out h100.json
  llm-roofline measure --quick --out /tmp/check.json      # seconds: checks the machinery
  llm-roofline analyze --hardware my-cpu.json --model qwen2.5-0.5b --act-dtype fp32"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "measure",
        help="measure this machine (peaks, bandwidth, per-operator efficiency) into a profile",
        description="Measure GEMM peaks, STREAM bandwidth, linear-layer and attention "
        "efficiency sweeps and per-operator framework overhead, and write a hardware "
        "profile (JSON) that --hardware accepts; its efficiency table calibrates the "
        "expected times.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default auto")
    p.add_argument("--dtypes", default="fp32,bf16", help="comma-separated (default fp32,bf16)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: all)")
    p.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto")
    p.add_argument("--quick", action="store_true", help="tiny sizes, seconds: not a calibration")
    p.add_argument(
        "--model",
        default="",
        metavar="MODELS",
        help="also sweep these models' own matmul shapes (comma-separated): their "
        "predictions then use measured curves instead of interpolated ones",
    )
    p.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="per probe: median of the timed runs (default) or the fastest (a host shared "
        "with other machines; see docs/CALIBRATION.md)",
    )
    p.add_argument(
        "--passes",
        type=int,
        default=1,
        metavar="N",
        help="run the whole sweep N times and merge per point with --statistic (default 1)",
    )
    p.add_argument("--out", metavar="FILE.json", help="write the profile here (default stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..measure import MeasureOptions, measure_profile, planned_steps
    from ..measure.device import parse_list
    from ..render.progress import Progress
    from . import UsageError

    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    if args.out and not args.out.endswith(".json"):
        raise UsageError(f"--out must end in .json, got {args.out!r}")
    dtypes = tuple(parse_list(args.dtypes))
    models = tuple(parse_list(args.model))
    options = MeasureOptions(
        args.device,
        dtypes,
        args.threads,
        args.quick,
        args.backend,
        models,
        args.statistic,
        args.passes,
    )
    with Progress(planned_steps(options, len(dtypes)), label="measure") as bar:
        profile = measure_profile(options, tick=lambda note: bar.advance(note=note))
    text = json.dumps(profile, indent=1) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        peaks = ", ".join(
            f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in profile["peak_flops_per_s"].items()
        )
        print(
            f"wrote {args.out}: {peaks}; bandwidth {profile['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0
