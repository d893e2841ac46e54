"""`llm-roofline sweep`: every combination of the given axes, streamed as CSV or JSON lines."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from . import UsageError
from .axes import dtype_grid, int_grid, text_grid
from .common import (
    ATTENTION_CHOICES,
    LOGITS_CHOICES,
    add_hardware_args,
    add_model_args,
    hardware_list_from_args,
    int_at_least,
    models_from_args,
)

EXAMPLE = """examples:
  llm-roofline sweep --model llama-3.1-8b --hardware h100-sxm,h200 --batch 1..512 \\
      --prompt-len 512,2048,8192 --tp 1,2,4,8 --out grid.csv
  llm-roofline sweep --model mixtral-8x7b --tp 1,2 --ep 1,2,4,8 --kv-dtype bf16,fp8 \\
      --batch 1..256:1 --format jsonl --out grid.jsonl

Axes take a value, a comma list or a range: 1..512 is 1,2,4,...,512 (powers of two),
1..64:1 every integer, 16..128:16 every 16th. Rows are the product of every axis; rows that
cannot run or do not fit carry valid=False and a reason."""

# flag -> (sweep axis, argparse type)
GRID_FLAGS: dict[str, tuple[str, Any, str]] = {
    "--batch": ("batch_size", int_grid(1), "sequences per model replica (1)"),
    "--prompt-len": ("prompt_len", int_grid(1), "prompt tokens (2048)"),
    "--context-len": ("context_len", int_grid(0), "tokens cached at the decode step (the prompt)"),
    "--output-len": ("output_len", int_grid(0), "generated tokens (256)"),
    "--tp": ("tensor", int_grid(1), "tensor-parallel degrees (1)"),
    "--pp": ("pipeline", int_grid(1), "pipeline stages (1)"),
    "--ep": ("expert", int_grid(1), "expert-parallel degrees (1)"),
    "--dp": ("data", int_grid(1), "data-parallel replicas (1)"),
    "--micro-batches": ("micro_batches", int_grid(1), "pipeline micro-batches (1)"),
    "--chunk-size": ("chunk_size", int_grid(1), "chunked-prefill chunk sizes (none)"),
}


def add_parser(sub: Any) -> None:
    from dataclasses import fields

    from ..inputs import dtypes
    from ..inputs.workload import Workload

    has_engine = "engine" in {f.name for f in fields(Workload)}  # no numpy import for --help

    p = sub.add_parser(
        "sweep",
        help="every combination of workload and layout axes, as CSV or JSON lines",
        description="Evaluate the cartesian product of the axes with the analysis engine's "
        "own formulas over arrays (the same numbers as `analyze`), streaming the rows.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p, multiple=True)
    add_hardware_args(p, multiple=True)
    grid = p.add_argument_group("axes (a value, a comma list, or a range)")
    for flag, (_axis, kind, text) in GRID_FLAGS.items():
        grid.add_argument(flag, type=kind, metavar="LIST", help=text)
    grid.add_argument(
        "--weight-dtype",
        type=dtype_grid(dtypes.WEIGHT_DTYPES),
        metavar="LIST",
        help="weight formats (bf16)",
    )
    grid.add_argument(
        "--act-dtype",
        type=dtype_grid(dtypes.ACTIVATION_DTYPES),
        metavar="LIST",
        help="activation / compute dtypes (bf16)",
    )
    grid.add_argument(
        "--kv-dtype",
        type=dtype_grid(dtypes.STORAGE_DTYPES),
        metavar="LIST",
        help="KV-cache dtypes (bf16)",
    )
    if has_engine:
        grid.add_argument(
            "--engine", type=text_grid, metavar="LIST", help="serving engine profiles"
        )
    fixed = p.add_argument_group("fixed workload fields")
    fixed.add_argument(
        "--weight-group-size", type=int_at_least(1), metavar="N", help="int4/fp4 group (128)"
    )
    fixed.add_argument("--attention", choices=ATTENTION_CHOICES, help="flash (default) or eager")
    fixed.add_argument("--logits", choices=LOGITS_CHOICES, help="last position (default) or all")
    fixed.add_argument(
        "--price-per-hour", type=_price, metavar="PRICE", help="adds cost_per_million_tokens"
    )
    fixed.add_argument(
        "--no-critical", action="store_true", help="skip critical_batch_size (faster)"
    )
    out = p.add_argument_group("output")
    out.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    out.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    p.set_defaults(func=run)


def _price(text: str) -> float:
    from .serve_curve import price

    return price(text)


def sweep_axes(args: argparse.Namespace) -> dict[str, Any]:
    """The sweep axes the flags give (the others keep their defaults)."""
    axes: dict[str, Any] = {}
    for flag, (axis, _kind, _text) in GRID_FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            axes[axis] = value
    for dest, axis in (
        ("weight_dtype", "weight_dtype"),
        ("act_dtype", "activation_dtype"),
        ("kv_dtype", "kv_dtype"),
        ("engine", "engine"),
    ):
        if getattr(args, dest, None) is not None:
            axes[axis] = getattr(args, dest)
    return axes


def run(args: argparse.Namespace) -> int:
    from ..inputs.workload import Workload
    from ..studies.sweep import sweep_chunks

    models = [m for _name, m in models_from_args(args)]
    hardware = [hw for _spec, hw in hardware_list_from_args(args)]
    fixed = {
        k: getattr(args, k)
        for k in ("weight_group_size", "attention", "logits")
        if getattr(args, k) is not None
    }
    try:
        base = Workload(**fixed)
        run_ = sweep_chunks(
            models,
            hardware,
            base,
            price_per_device_hour=args.price_per_hour,
            critical=not args.no_critical,
            **sweep_axes(args),
        )
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    stream = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115  (closed below unless stdout)
    try:
        rows, seconds = write(run_, stream, args.format)
    finally:
        if args.out:
            stream.close()
    rate = f" ({rows / seconds:,.0f} rows/s)" if seconds > 0 else ""
    print(f"llm-roofline: sweep: {rows:,} rows in {seconds:.2f} s{rate}", file=sys.stderr)
    return 0


def write(run_: Any, stream: Any, fmt: str) -> tuple[int, float]:
    """Stream the run's chunks to ``stream`` with a progress bar (after one second)."""
    from ..render.progress import Progress
    from ..studies.sweep_io import write_csv, write_jsonl

    start = time.perf_counter()
    bar = Progress(total=len(run_), label="sweep")

    def chunks() -> Any:
        for chunk in run_:
            yield chunk
            elapsed = time.perf_counter() - start
            n = len(chunk["valid"])
            if elapsed < 1.0:
                bar.done += n  # quiet for the first second
                continue
            eta = elapsed / max(bar.done + n, 1) * (bar.total or 0) - elapsed
            bar.advance(n, note=f"{elapsed:.0f} s elapsed, ETA {max(eta, 0):.0f} s")

    with bar:
        rows = (write_csv if fmt == "csv" else write_jsonl)(stream, chunks())
    return rows, time.perf_counter() - start
