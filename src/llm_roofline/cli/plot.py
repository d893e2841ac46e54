"""`llm-roofline plot`: the roofline plot of one model on one device (PNG or SVG)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .common import (
    add_hardware_args,
    add_model_args,
    add_parallelism_args,
    add_workload_args,
    plot_file,
    warn,
)

if TYPE_CHECKING:
    from ..engine.report import Report

EXAMPLE = """examples:
  llm-roofline plot --out roofline.png
  llm-roofline plot --model llama-3.1-70b --hardware h200 --batch 32 --out roofline.svg"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plot",
        help="draw the roofline plot (operators of both phases) to a PNG or SVG",
        description="Draw the roofline of one model on one device: compute roofs per dtype, "
        "the bandwidth slope and ridge point, every operator of prefill and decode sized by "
        "its share of the phase's time, and the two phase totals. Needs matplotlib.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    add_hardware_args(p)
    add_workload_args(p)
    add_parallelism_args(p)
    p.add_argument(
        "--out", required=True, type=plot_file, metavar="FILE", help="output file, .png or .svg"
    )
    p.set_defaults(func=run)


def draw(report: Report, path: str) -> None:
    """Plot ``report`` to ``path``; a missing matplotlib is a usage error, not a traceback."""
    from ..render.plot import plot_roofline
    from . import UsageError

    try:
        written = plot_roofline(report, path)
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    print(f"llm-roofline: wrote {written}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..engine.analyze import analyze
    from ..render.text import verdicts
    from .common import (
        hardware_from_args,
        model_from_args,
        parallelism_from_args,
        require,
        workload_from_args,
    )

    require("matplotlib")
    model, hardware = model_from_args(args), hardware_from_args(args)
    report = analyze(model, hardware, workload_from_args(args), parallelism_from_args(args))
    warn(report.warnings)
    draw(report, args.out)
    print("\n".join(verdicts(report)))
    return 0
