"""`llm-roofline compare`: the same workload across devices and/or models, side by side."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import (
    add_hardware_args,
    add_model_args,
    add_parallelism_args,
    add_workload_args,
    warn,
)

EXAMPLE = """examples:
  llm-roofline compare --hardware h100-sxm,a100-sxm-80gb,mi300x
  llm-roofline compare --model llama-3.1-8b,mistral-7b,qwen2.5-7b --hardware l40s --batch 8
  llm-roofline compare --model llama-3.1-8b,llama-3.1-70b --hardware h100-sxm,h200"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="side-by-side report across devices and/or models, with ratios",
        description="Analyze one workload for every (model, device) pair and print the "
        "phases and metrics side by side; each number carries its ratio to the first column.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p, multiple=True)
    add_hardware_args(p, multiple=True)
    add_workload_args(p)
    add_parallelism_args(p)
    p.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json (a list of reports) or csv (one line per column)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from ..render.compare import compare_table
    from ..studies.comparison import compare
    from .common import (
        hardware_list_from_args,
        models_from_args,
        parallelism_from_args,
        workload_from_args,
    )

    models, devices = models_from_args(args), hardware_list_from_args(args)
    workload = workload_from_args(args)
    layout = parallelism_from_args(args)
    columns = compare(models, devices, workload, layout)
    for heading, report in columns:
        warn(f"{heading}: {line}" for line in report.warnings)
    if args.format == "json":
        print(json.dumps([{"column": h, "report": r.to_dict()} for h, r in columns], indent=2))
    elif args.format == "csv":
        from ..render.compare import compare_csv

        sys.stdout.write(compare_csv(columns))
    else:
        print(compare_table(columns))
    return 0
