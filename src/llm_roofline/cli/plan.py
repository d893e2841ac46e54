"""`llm-roofline plan`: the best deployment under TTFT/TPOT limits, and why it wins."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import UsageError
from .axes import dtype_grid, int_grid
from .common import (
    add_hardware_args,
    add_model_args,
    hardware_list_from_args,
    int_at_least,
    model_from_args,
    plot_file,
    split_list,
)

if TYPE_CHECKING:
    from ..studies.plan_eval import RequestClass

EXAMPLE = """examples:
  llm-roofline plan --model llama-3.1-70b --hardware h200 --devices 8 --ttft-ms 2000 --tpot-ms 50
  llm-roofline plan --model qwen3-30b-a3b --hardware h100-sxm,h200 --devices 8..64 \\
      --kv-dtype bf16,fp8 --tpot-ms 30 --price-per-hour h100-sxm=2.5,h200=3.5 --plot pareto.svg
  llm-roofline plan --model llama-3.1-8b --devices 8 --requests mix.csv --tpot-ms 20 --disaggregated

--requests takes a JSON list or a CSV (header prompt_len,output_len[,weight]) of request
classes; weights are their shares. docs/PLAN.md describes the search and the serving model."""


def _positive(what: str, scale: float = 1.0) -> Callable[[str], float]:
    """An argparse type: a finite number > 0 of ``what``, times ``scale`` (ms -> s)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be a number of {what} > 0, got {text}")
        return value * scale

    return parse


_ms = _positive("milliseconds", 1e-3)
_rate = _positive("requests per second")


def _prices(text: str) -> float | dict[str, float]:
    """'2.5' (every device) or 'h100-sxm=2.5,h200=3.5'."""
    from .serve_curve import price

    if "=" not in text:
        return price(text)
    out = {}
    for part in split_list(text):
        name, _, value = part.partition("=")
        if not name.strip() or not value:
            raise argparse.ArgumentTypeError(f"expected DEVICE=PRICE, got {part!r}")
        out[name.strip()] = price(value)
    return out


def _link(text: str) -> float:
    from ..inputs.units import parse_bytes_per_s

    try:
        return parse_bytes_per_s("value", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("value: ")) from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="the best deployment under TTFT/TPOT limits, the runner-ups and the Pareto frontier",
        description="Search every layout (tensor, pipeline, expert, replicas), batch, weight and KV "
        "format and chunk size on the given devices, keep those that fit and meet the limits, and "
        "print the best for tokens/s per device (per dollar with prices), with the reason it wins.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_args(p)
    add_hardware_args(p, multiple=True)
    _search_args(p)
    _load_args(p)
    out = p.add_argument_group("output").add_argument
    out("--top", type=int_at_least(1), default=5, metavar="N", help="runner-ups shown (5)")
    out("--format", choices=("table", "json"), default="table")
    out("--plot", type=plot_file, metavar="FILE", help="the Pareto plot (.png/.svg)")
    p.set_defaults(func=run)


def _search_args(p: argparse.ArgumentParser) -> None:
    from ..inputs import dtypes

    add = p.add_argument_group("search").add_argument
    add(
        "--devices",
        type=int_grid(1),
        default=[8],
        metavar="LIST",
        help="device totals, e.g. 8 or 8..64 (8)",
    )
    add("--batch", type=int_grid(1), metavar="LIST", help="batch grid per replica (1..512)")
    add(
        "--weight-dtype",
        type=dtype_grid(dtypes.WEIGHT_DTYPES),
        metavar="LIST",
        help="weight formats (bf16)",
    )
    add(
        "--kv-dtype",
        type=dtype_grid(dtypes.STORAGE_DTYPES),
        metavar="LIST",
        help="KV formats (bf16)",
    )
    add(
        "--act-dtype",
        type=dtype_grid(dtypes.ACTIVATION_DTYPES),
        metavar="DTYPE",
        help="compute dtype (bf16)",
    )
    add(
        "--chunk-size", type=int_grid(1), metavar="LIST", help="chunked-prefill sizes to try (none)"
    )
    add("--tp", type=int_grid(1), metavar="LIST", help="only these tensor degrees (all)")
    add("--pp", type=int_grid(1), metavar="LIST", help="only these pipeline depths (all)")
    add("--ep", type=int_grid(1), metavar="LIST", help="only these expert degrees (all)")


def _load_args(p: argparse.ArgumentParser) -> None:
    load = p.add_argument_group("requests and limits").add_argument
    load(
        "--prompt-len", type=int_at_least(1), default=2048, metavar="N", help="prompt tokens (2048)"
    )
    load("--output-len", type=int_at_least(2), default=256, metavar="N", help="output tokens (256)")
    load("--requests", metavar="FILE", help="a mix of request classes (.json or .csv)")
    load("--ttft-ms", type=_ms, metavar="MS", help="time to first token limit")
    load("--tpot-ms", type=_ms, metavar="MS", help="time per output token limit")
    load(
        "--rate",
        type=_rate,
        metavar="R",
        help="requests per second the deployment must sustain (disaggregated pools are sized to it)",
    )
    load(
        "--price-per-hour",
        type=_prices,
        metavar="PRICE",
        help="per device-hour: 2.5, or h200=3.5,h100-sxm=2.5",
    )
    load("--reserve", type=_fraction, default=0.1, metavar="F", help="memory kept free (0.1)")
    load(
        "--disaggregated", action="store_true", help="also search separate prefill and decode pools"
    )
    load(
        "--kv-link",
        type=_link,
        metavar="BYTES/S",
        help="KV transfer bandwidth between pools (interconnect)",
    )


def _fraction(text: str) -> float:
    from .serve_curve import fraction

    return fraction(text)


def load_requests(path: str) -> list[RequestClass]:
    """Request classes from a JSON list of objects or a CSV with a header row."""
    from ..studies.plan_eval import RequestClass

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--requests {path!r}: {exc.strerror or exc}") from None
    try:
        if path.lower().endswith(".json"):
            rows = json.loads(text)
            if not isinstance(rows, list):
                raise ValueError("expected a JSON list of {prompt_len, output_len, weight} objects")
        else:
            rows = list(csv.DictReader(text.splitlines()))
        classes = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not {"prompt_len", "output_len"} <= set(row):
                raise ValueError(f"row {i + 1} needs prompt_len and output_len, got {row!r}")
            unknown = set(row) - {"prompt_len", "output_len", "weight"}
            if unknown:
                raise ValueError(f"row {i + 1} has unknown fields {sorted(unknown)}")
            classes.append(
                RequestClass(
                    _number(row["prompt_len"]),
                    _number(row["output_len"]),
                    float(row.get("weight", 1.0)),
                )
            )
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--requests {path!r}: {exc}") from None
    if not classes:
        raise UsageError(f"--requests {path!r}: no request classes")
    return classes


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def run(args: argparse.Namespace) -> int:
    from ..inputs.workload import Workload
    from ..studies.plan import DEFAULT_BATCH_SIZES, plan

    model = model_from_args(args)
    hardware = [hw for _spec, hw in hardware_list_from_args(args)]
    requests = load_requests(args.requests) if args.requests else None
    acts = args.act_dtype or ["bf16"]
    if len(acts) != 1:
        raise UsageError(f"--act-dtype takes one dtype, got {','.join(acts)}")
    result = plan(
        model,
        hardware,
        args.devices,
        requests=requests,
        prompt_len=args.prompt_len,
        output_len=args.output_len,
        ttft_s=args.ttft_ms,
        tpot_s=args.tpot_ms,
        requests_per_s=args.rate,
        batch_sizes=args.batch or DEFAULT_BATCH_SIZES,
        weight_dtypes=args.weight_dtype or ["bf16"],
        kv_dtypes=args.kv_dtype or ["bf16"],
        chunk_sizes=args.chunk_size or [None],
        tensor=args.tp,
        pipeline=args.pp,
        expert=args.ep,
        workload=Workload(activation_dtype=acts[0]),
        price_per_hour=args.price_per_hour,
        mode="both" if args.disaggregated else "aggregated",
        reserve_fraction=args.reserve,
        kv_transfer_bytes_per_s=args.kv_link,
        top=args.top,
    )
    if args.format == "json":
        print(result.to_json())
    else:
        from ..render.plan import plan_text

        print(plan_text(result))
    if args.plot:
        from ..render.plan_plot import plot_plan

        plot_plan(result, args.plot)
    return 0
