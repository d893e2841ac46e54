"""`llm-roofline measure`: measure this machine and write a hardware profile."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..inputs.bounds import Bound
from .common import int_at_least, text_value, writable_file

EXAMPLE = """examples:
  llm-roofline measure --out my-cpu.json                  # torch on the CPU, fp32 and bf16
  llm-roofline measure --device cuda --dtypes bf16,fp16 --out h100.json
  llm-roofline measure --quick --out /tmp/check.json      # seconds: checks the machinery
  llm-roofline analyze --hardware my-cpu.json --model qwen2.5-0.5b --act-dtype fp32"""


THREADS = Bound(1, 4096)
PASSES = Bound(1, 100)


def profile_file(text: str) -> str:
    """An argparse type: a writable path ending in .json (checked before measuring)."""
    if not text.endswith(".json"):
        raise argparse.ArgumentTypeError(f"must end in .json, got {text!r}")
    return writable_file(text)


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
    p.add_argument(
        "--dtypes", type=text_value, default="fp32,bf16", help="comma-separated (default fp32,bf16)"
    )
    p.add_argument(
        "--threads", type=int_at_least(1, THREADS), metavar="N", help="CPU threads (default: all)"
    )
    p.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto")
    p.add_argument("--quick", action="store_true", help="tiny sizes, seconds: not a calibration")
    p.add_argument(
        "--framework",
        choices=("auto", "transformers", "none"),
        default="auto",
        help="also measure the transformers engine profile (its cache copy and host time per "
        "layer and step, through tiny transformers models): auto when transformers is "
        "installed (default), transformers to require it, none to skip",
    )
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
        type=int_at_least(1, PASSES),
        default=1,
        metavar="N",
        help="run the whole sweep N times and merge per point with --statistic (default 1)",
    )
    p.add_argument(
        "--out",
        type=profile_file,
        metavar="FILE.json",
        help="write the profile here (default stdout); its folder is checked before measuring",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..measure import MeasureOptions, measure_profile, planned_steps
    from ..measure.device import available_backend, parse_list
    from ..render.progress import Progress
    from . import UsageError

    backend = available_backend(args.backend)  # a missing extra: one line, before any work
    dtypes = tuple(parse_list(args.dtypes))
    models = tuple(parse_list(args.model))
    options = MeasureOptions(
        args.device,
        dtypes,
        args.threads,
        args.quick,
        backend,
        models,
        args.statistic,
        args.passes,
        args.framework,
    )
    with Progress(planned_steps(options, len(dtypes)), label="measure", eta=True) as bar:
        profile = measure_profile(options, tick=lambda note: bar.advance(note=note))
    text = json.dumps(profile, indent=1) + "\n"
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:  # the folder went away while measuring: keep the result
            sys.stdout.write(text)
            raise UsageError(
                f"--out {args.out!r}: cannot write ({exc.strerror or exc}); "
                "the profile was printed to stdout instead"
            ) from None
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
