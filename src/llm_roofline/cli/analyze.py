"""`llm-roofline analyze` (and `llm-roofline` alone): one model, one device, one workload."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import (
    add_hardware_args,
    add_model_args,
    add_parallelism_args,
    add_workload_args,
    plot_file,
    warn,
)

FORMATS = ("table", "json", "csv")

EXAMPLE = """examples:
  llm-roofline                                   # Llama-3.1-8B on an H100 SXM, the defaults
  llm-roofline analyze --model llama-3.1-70b --hardware h200 --batch 16 --per-operator
  llm-roofline analyze --model llama-3.1-70b --hardware h100-sxm --tp 8 --batch 32
  llm-roofline analyze --model mixtral-8x7b --hardware a100-sxm-80gb --weight-dtype int4
  llm-roofline analyze --format json > report.json
  llm-roofline analyze --plot roofline.svg"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="roofline report of one model on one device (the default command)",
        description="Is prefill compute-bound or memory-bound, and decode? By how much, and "
        "what would change it: phase totals, metrics, findings, optionally per operator.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    add_hardware_args(p)
    add_workload_args(p)
    add_parallelism_args(p)
    add_output_args(p)
    p.set_defaults(func=run)


def add_output_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("output")
    group.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), json (the report document), csv (operator rows)",
    )
    group.add_argument(
        "--per-operator", action="store_true", help="add the operator table of each phase"
    )
    group.add_argument(
        "--no-findings", action="store_true", help="leave out the findings (a little faster)"
    )
    group.add_argument(
        "--plot",
        type=plot_file,
        metavar="FILE",
        help="also draw the roofline plot to FILE (.png or .svg)",
    )


def run(args: argparse.Namespace) -> int:
    from ..engine.analyze import analyze
    from .common import (
        hardware_from_args,
        model_from_args,
        parallelism_from_args,
        require,
        workload_from_args,
    )

    if args.plot:
        require("matplotlib")
    model, hardware = model_from_args(args), hardware_from_args(args)
    workload = workload_from_args(args)
    parallelism = parallelism_from_args(args)
    report = analyze(model, hardware, workload, parallelism)
    if not args.no_findings and args.format != "csv":
        from dataclasses import replace

        from ..studies.findings import findings

        report = replace(
            report, findings=tuple(findings(model, hardware, workload, report, parallelism))
        )
    warn(report.warnings)
    if args.format == "json":
        print(report.to_json())
    elif args.format == "csv":
        from ..render.csv import operators_csv

        sys.stdout.write(operators_csv(report))
    else:
        from ..render.table import report_table

        lines = list(report.findings)
        print(report_table(report, lines, per_operator=args.per_operator, show_warnings=False))
    if args.plot:
        from .plot import draw

        draw(report, args.plot)
    return 0
