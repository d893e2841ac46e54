"""`llm-roofline validate`: run a real transformer and compare with the predictions."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import add_model_args

EXAMPLE = """examples:
  llm-roofline measure --out cpu.json
  llm-roofline validate --model qwen2.5-0.5b --hardware cpu.json --dtypes fp32 \\
      --prompt-lens 128,512 --batches 1,4 --context-lens 512
  llm-roofline validate --model llama-3.2-1b --hardware docs/profiles/dev-cpu.json --format json
  llm-roofline validate --model qwen2.5-0.5b --hardware cpu.json --backend transformers"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="time a real model (random weights) and compare with ideal and calibrated predictions",
        description="Build the model in PyTorch with random weights, time prefill and decode "
        "steps on a grid, and print measured vs predicted (ideal roofline and calibrated by "
        "the profile's efficiency table) with the error of each.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    p.add_argument(
        "--hardware",
        required=True,
        metavar="PROFILE",
        help="a measured profile (.json from `llm-roofline measure`) or a preset",
    )
    p.add_argument("--dtypes", default="fp32,bf16", help="comma-separated (default fp32,bf16)")
    p.add_argument("--batches", default="1,4,16", help="decode batches (default 1,4,16)")
    p.add_argument("--prompt-lens", default="128,512,2048", help="prefill lengths, batch 1")
    p.add_argument("--context-lens", default="512", help="decode contexts (default 512)")
    p.add_argument(
        "--backend",
        choices=("ours", "transformers"),
        default="ours",
        help="ours: the compact reference model (default); transformers: the same model "
        "through Hugging Face transformers (pip install 'llm-roofline[torch,hf]')",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: all)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per point (median)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per point first")
    p.add_argument("--budget-s", type=float, default=20.0, help="stop repeating past this (>=3)")
    p.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="measured time: median of the timed runs (default) or the fastest; use the "
        "statistic the profile was measured with",
    )
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..measure.device import parse_ints, parse_list, select_device, select_dtypes
    from ..measure.reference_model import check_supported
    from ..render.progress import Progress
    from ..validate import run_validation
    from ..validate.harness import TimingOptions, grid
    from ..validate.render import render_markdown, render_table
    from . import UsageError
    from .common import load_hardware, model_from_args

    model = model_from_args(args)
    check_supported(model)
    hardware = load_hardware(args.hardware, args)
    if args.repeats < 1 or args.warmup < 0:
        raise UsageError("--repeats must be >= 1 and --warmup >= 0")
    try:
        import torch
    except ImportError:
        raise UsageError("validate needs PyTorch (pip install 'llm-roofline[torch]')") from None
    cuda = torch.cuda.is_available()
    device = select_device(args.device, backend="torch", cuda_available=cuda)
    bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    dtypes = select_dtypes(
        parse_list(args.dtypes), backend="torch", device=device, bf16_supported=bf16
    )
    points = grid(
        dtypes,
        parse_ints("--prompt-lens", args.prompt_lens),
        parse_ints("--batches", args.batches),
        parse_ints("--context-lens", args.context_lens, minimum=0),
    )
    opts = TimingOptions(
        device=device,
        backend=args.backend,
        warmup=args.warmup,
        repeats=args.repeats,
        budget_s=args.budget_s,
        threads=args.threads,
        statistic=args.statistic,
    )
    with Progress(len(points), label="validate") as bar:
        result = run_validation(model, hardware, points, opts, lambda p, t: bar.advance())
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(render_markdown(result) if args.format == "markdown" else render_table(result))
    sys.stdout.flush()
    return 0
