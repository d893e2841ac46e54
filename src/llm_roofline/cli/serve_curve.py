"""`llm-roofline serve-curve`: throughput against latency, memory and cost across batch sizes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import UsageError
from .common import (
    add_hardware_args,
    add_model_args,
    add_parallelism_args,
    add_workload_args,
    int_at_least,
    load_model,
    parallelism_from_args,
    plot_file,
    split_list,
    text_value,
    warn,
)

EXAMPLE = """examples:
  llm-roofline serve-curve --model llama-3.1-70b --hardware h100-sxm --tp 8
  llm-roofline serve-curve --model deepseek-v3 --hardware h200 --tp 8 --pp 2 --weight-dtype fp8
  llm-roofline serve-curve --model mixtral-8x7b --tp 2 --ep 2 --price-per-hour 2.5 --format json
  llm-roofline serve-curve --model llama-3.1-70b --tp 8 --draft-model llama-3.2-1b --spec-k 4 \\
      --spec-alpha 0.8 --plot serving.svg"""

DEFAULT_BATCH_SIZES = "1,2,4,8,16,32,64,128,256"
DEFAULT_SPEC_K = 4
DEFAULT_SPEC_ALPHA = 0.7


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


MAX_PRICE = 1e6  # per device-hour: beyond any rental price, and keeps every cost finite


def price(text: str) -> float:
    """An argparse type: a price from 0 to 10^6 (per device-hour, any currency)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= MAX_PRICE:
        raise argparse.ArgumentTypeError(
            f"must be a number from 0 to {MAX_PRICE:,.0f} per device-hour, got {text}"
        )
    return value


def batch_list(text: str) -> list[int]:
    """An argparse type: '1,8,64' -> [1, 8, 64], each a batch size (1 to 10^7)."""
    from ..inputs.bounds import BATCH

    parse = int_at_least(1, BATCH)
    sizes = [parse(part) for part in split_list(text)]
    if not sizes:
        raise argparse.ArgumentTypeError("expected batch sizes, e.g. 1,8,64")
    return sizes


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve-curve",
        help="throughput vs latency, memory and cost across batch sizes (multi-device)",
        description="The request-level serving view: TTFT, TPOT, end-to-end latency, "
        "throughput per device, the largest batch that fits and the batch where decode turns "
        "compute-bound, cost per million output tokens; with tensor, pipeline and expert "
        "parallelism, chunked prefill and speculative decoding.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    add_hardware_args(p)
    add_workload_args(p)
    add_parallelism_args(p)
    from ..inputs.bounds import SPEC_K, TOKENS

    group = p.add_argument_group("serving")
    add = group.add_argument
    add(
        "--batch-sizes",
        type=batch_list,
        metavar="LIST",
        help=f"comma-separated batch sizes (default {DEFAULT_BATCH_SIZES}; --batch: just one)",
    )
    add("--reserve", type=fraction, default=0.1, metavar="F", help="memory kept free (0.1)")
    add("--price-per-hour", type=price, metavar="PRICE", help="price of one device-hour")
    add(
        "--chunk-size",
        type=int_at_least(1, TOKENS),
        metavar="N",
        help="chunked prefill, N tokens",
    )
    add("--mla-decode", choices=("absorbed", "naive"), help="MLA decode form (absorbed)")
    add(
        "--draft-model",
        type=text_value,
        metavar="MODEL",
        help="speculative decoding with this draft model",
    )
    add(
        "--spec-k",
        type=int_at_least(1, SPEC_K),
        metavar="K",
        help=f"draft tokens, 1 to {SPEC_K.high:g} ({DEFAULT_SPEC_K})",
    )
    add(
        "--spec-alpha",
        type=probability,
        metavar="A",
        help=f"acceptance rate per draft token ({DEFAULT_SPEC_ALPHA})",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json (the curve document) or csv (one line per batch size)",
    )
    out.add_argument("--plot", type=plot_file, metavar="FILE", help="also draw to FILE (.png/.svg)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..render.serving import serving_csv, serving_table
    from ..studies.serving import SpeculativeConfig, serving_curve
    from .common import hardware_from_args, model_from_args, workload_from_args

    if args.plot:
        from .common import require

        require("matplotlib")
    if args.draft_model is None and (args.spec_k is not None or args.spec_alpha is not None):
        raise UsageError("--spec-k and --spec-alpha need --draft-model")
    model, hardware = model_from_args(args), hardware_from_args(args)
    workload = workload_from_args(args)
    if args.mla_decode is not None:
        workload = replace(workload, mla_decode=args.mla_decode)
    sizes = args.batch_sizes or ([args.batch] if args.batch else batch_list(DEFAULT_BATCH_SIZES))
    spec = None
    if args.draft_model is not None:
        spec = SpeculativeConfig(
            load_model(args.draft_model, "--draft-model"),
            args.spec_k or DEFAULT_SPEC_K,
            DEFAULT_SPEC_ALPHA if args.spec_alpha is None else args.spec_alpha,
        )
    curve = serving_curve(
        model,
        hardware,
        workload,
        sizes,
        parallelism_from_args(args),
        reserve_fraction=args.reserve,
        price_per_device_hour=args.price_per_hour,
        chunk_size=args.chunk_size,
        speculative=spec,
    )
    if args.format == "json":
        print(curve.to_json())
    elif args.format == "csv":
        sys.stdout.write(serving_csv(curve))
    else:
        print(serving_table(curve))
    if any(not point.fits for point in curve.points):
        warn(
            [
                f"batches marked 'no' do not fit in {100 * (1 - curve.reserve_fraction):g}% of each device's memory"
            ]
        )
    if args.plot:
        from ..render.serve_plot import plot_serving_curve

        plot_serving_curve(curve, args.plot)
    return 0
