"""`llm-roofline web`: the report as one self-contained HTML page (several devices: a switcher)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import (
    add_hardware_args,
    add_model_args,
    add_parallelism_args,
    add_workload_args,
    warn,
)

EXAMPLE = """examples:
  llm-roofline web --out report.html
  llm-roofline web --model llama-3.1-70b --hardware h100-sxm,h200,mi300x --batch 16 --out cmp.html
  llm-roofline web --model llama-3.1-70b --hardware h100-sxm --tp 2 --out tp2.html
  llm-roofline serve   # the same page, live: change the inputs on it"""

PAGE_SUFFIXES = (".html", ".htm")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "web",
        help="write the report as a self-contained HTML page (chart, tables, findings)",
        description="Write one HTML file that embeds the report JSON and draws it: the "
        "verdict per phase, the metrics, the findings, a roofline chart with every operator, "
        "and sortable operator tables. No external resources; it opens from file://. "
        "Several devices (--hardware A,B) go on one page with a switcher; --tp/--pp/--ep/--dp "
        "lay the model out on several devices of each kind.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    add_hardware_args(p, multiple=True)
    add_workload_args(p)
    add_parallelism_args(p)
    p.add_argument(
        "--out", required=True, type=page_file, metavar="FILE", help="the .html to write"
    )
    p.add_argument(
        "--no-findings", action="store_true", help="leave out the findings (a little faster)"
    )
    p.set_defaults(func=run)


def page_file(text: str) -> str:
    """An argparse type: a path ending in .html or .htm (checked before any work)."""
    if Path(text).suffix.lower() not in PAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"the page must end in .html, got {text!r}")
    return text


def run(args: argparse.Namespace) -> int:
    from ..render.html import render_html
    from ..serve.service import page_document
    from . import UsageError
    from .common import (
        hardware_list_from_args,
        model_from_args,
        parallelism_from_args,
        workload_from_args,
    )

    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {args.out!r}: no such directory {str(out.parent)!r}")
    model, devices = model_from_args(args), hardware_list_from_args(args)
    workload, layout = workload_from_args(args), parallelism_from_args(args)
    doc = page_document(
        model, [hw for _, hw in devices], workload, layout, with_findings=not args.no_findings
    )
    for (name, _), report in zip(devices, doc["reports"], strict=True):
        prefix = f"{name}: " if len(devices) > 1 else ""
        warn(prefix + line for line in report["warnings"])
    if not args.no_findings and doc["findings"] is None:
        warn(["findings are left out: they describe one device, and this layout has several"])
    page = render_html(doc["reports"], doc["findings"])
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {args.out!r}: cannot write: {exc.strerror or exc}") from None
    print(f"llm-roofline: wrote {out}", file=sys.stderr)
    return 0
