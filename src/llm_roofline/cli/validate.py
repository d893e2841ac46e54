"""`llm-roofline validate`: run a real transformer and compare with the predictions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..inputs.bounds import BATCH, LAYERS, TOKENS, Bound, quantity
from .common import add_model_args, int_at_least, split_list, text_value, warn

if TYPE_CHECKING:
    from ..inputs.hardware import Hardware
    from ..inputs.model import Model
    from ..validate.points import Point

DEFAULT_MODEL = "qwen2.5-0.5b"  # 2 GB of fp32 weights: fits the memory of most machines
THREADS = Bound(1, 4096)
REPEATS = Bound(0, 1000)

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
    add_model_args(p, default=DEFAULT_MODEL)
    add = p.add_argument
    add(
        "--hardware",
        required=True,
        type=text_value,
        metavar="PROFILE",
        help="a measured profile (.json from `llm-roofline measure`) or a preset",
    )
    add("--dtypes", type=text_value, default="fp32,bf16", help="comma-separated (fp32,bf16)")
    add("--batches", type=counts(BATCH), default="1,4,16", help="decode batches (1,4,16)")
    add(
        "--prompt-lens",
        type=counts(TOKENS, minimum=1),
        default="128,512,2048",
        help="prefill lengths, batch 1 (128,512,2048)",
    )
    add(
        "--context-lens",
        type=counts(TOKENS, minimum=0),
        default="512",
        help="decode contexts (default 512)",
    )
    add(
        "--backend",
        choices=("ours", "transformers"),
        default="ours",
        help="ours: the compact reference model (default); transformers: the same model "
        "through Hugging Face transformers (pip install 'llm-roofline[torch,hf]')",
    )
    add(
        "--layers",
        type=int_at_least(1, LAYERS),
        metavar="N",
        help="keep the first N layers of the model (every width unchanged): a faster run "
        "whose prediction is for the same N-layer model",
    )
    add(
        "--engine",
        type=text_value,
        metavar="ENGINE",
        help="whose expected time to compare with: transformers with --backend transformers "
        "(the profile's transformers engine: its DynamicCache copy and host time), the "
        "profile as measured (generic) with --backend ours",
    )
    add(
        "--no-host-probe",
        action="store_true",
        help="skip the host-speed probe before each round (and the normalization by it)",
    )
    add("--device", choices=("auto", "cpu", "cuda"), default="auto")
    add("--threads", type=int_at_least(1, THREADS), metavar="N", help="CPU threads (all)")
    add("--repeats", type=int_at_least(1, REPEATS), default=5, help="timed runs per point (5)")
    add("--warmup", type=int_at_least(0, REPEATS), default=1, help="untimed runs first (1)")
    add("--budget-s", type=seconds, default=20.0, help="stop repeating a point past this (20)")
    add(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="measured time: median of the timed runs (default) or the fastest; use the "
        "statistic the profile was measured with",
    )
    add("--format", choices=("table", "json", "markdown"), default="table")
    p.set_defaults(func=run)


def counts(bound: Bound, minimum: int = 1) -> Callable[[str], list[int]]:
    """An argparse type: a comma-separated list of whole numbers inside ``bound``."""
    one = int_at_least(minimum, bound)

    def parse(text: str) -> list[int]:
        values = [one(part) for part in split_list(text)]
        if not values:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
        return values

    return parse


def seconds(text: str) -> float:
    """An argparse type: a time budget in seconds, 0.1 to a day."""
    try:
        return quantity("value", float(text), Bound(0.1, 86_400.0))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds between 0.1 and 86400, got {text!r}"
        ) from None


def run(args: argparse.Namespace) -> int:
    from ..measure.device import installed, parse_list
    from .common import load_hardware, model_from_args

    model = model_from_args(args)
    hardware = load_hardware(args.hardware, args)
    for module in ("torch", "transformers") if args.backend == "transformers" else ("torch",):
        if not installed(module):  # before any torch-backed module is imported
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
    from ..measure.reference_model import check_supported
    from ..validate.harness import grid

    model = truncated(model, args.layers)
    if args.backend == "ours":  # transformers builds every architecture the catalog has
        check_supported(model)
    device, dtypes = _device_and_dtypes(args.device, parse_list(args.dtypes))
    points = grid(dtypes, args.prompt_lens, args.batches, args.context_lens)
    check_positions(model, points)
    check_memory(model, points, device, args.backend)
    args.engine = engine_for(args.engine, args.backend, hardware, dtypes)
    check_engine(hardware, dtypes, args.engine, args.hardware)
    return _time_and_print(args, model, hardware, points, device)


def truncated(model: Model, layers: int | None) -> Model:
    """The first ``layers`` layers of ``model`` (its name kept: the catalog config is found
    by it); a UsageError when the model has fewer or is not uniform enough to cut."""
    import dataclasses

    from . import UsageError

    if layers is None or layers == model.num_layers:
        return model
    if layers > model.num_layers:
        raise UsageError(f"--layers {layers}: {model.name} has only {model.num_layers} layers")
    if model.sliding_window_layers or (model.moe is not None and model.moe.first_dense_layers):
        raise UsageError(
            f"--layers {layers}: {model.name} has per-layer kinds (sliding or dense-first "
            "layers); run it whole"
        )
    return dataclasses.replace(model, num_layers=layers)


def engine_for(engine: str | None, backend: str, hardware: Hardware, dtypes: Sequence[str]) -> str:
    """The engine the prediction is for: the one given (checked); else with the
    transformers backend the profile's transformers engine when it has one (a warning and
    the kernels alone when it has not), else the profile as measured (generic)."""
    from ..engine.timing import Roofs
    from ..inputs.workload import normalize_engine
    from . import UsageError

    if engine is not None:
        try:
            return normalize_engine("--engine", engine)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if backend != "transformers":
        return "generic"
    try:
        for dtype in dtypes:
            Roofs.of(hardware, dtype, "transformers")
    except ValueError:
        warn(
            [
                f"{hardware.name} has no transformers engine profile (measure one with "
                "`llm-roofline measure` and transformers installed): the prediction leaves "
                "out transformers' cache copy and host time"
            ]
        )
        return "generic"
    return "transformers"


def check_engine(hardware: Hardware, dtypes: Sequence[str], engine: str, given: str) -> None:
    """Before any timing: the profile prices ``engine`` (a UsageError naming it if not)."""
    from ..engine.timing import Roofs
    from . import UsageError

    for dtype in dtypes:
        try:
            Roofs.of(hardware, dtype, engine)
        except ValueError as error:
            raise UsageError(f"--hardware {given}: {error}") from None


def _device_and_dtypes(requested: str, dtypes: list[str]) -> tuple[str, tuple[str, ...]]:
    import torch

    from ..measure.device import select_device, select_dtypes

    cuda = torch.cuda.is_available()
    device = select_device(requested, backend="torch", cuda_available=cuda)
    bf16 = bool(cuda and torch.cuda.is_bf16_supported())
    chosen = select_dtypes(dtypes, backend="torch", device=device, bf16_supported=bf16)
    return device, chosen


def check_positions(model: Model, points: Sequence[Point]) -> None:
    """A UsageError when a point needs positions past a learned position table."""
    from . import UsageError

    if not model.position_embeddings or model.max_position_embeddings is None:
        return
    limit = model.max_position_embeddings
    for p in points:
        need = p.tokens + (1 if p.phase == "decode" else 0)
        if need > limit:
            flag = "--prompt-lens" if p.phase == "prefill" else "--context-lens"
            raise UsageError(
                f"{flag} {p.tokens}: {model.name} has {limit} learned positions, so at most "
                f"{limit if p.phase == 'prefill' else limit - 1} here"
            )


def check_memory(model: Model, points: Sequence[Point], device: str, backend: str) -> None:
    """A UsageError, before any build, when one (model, dtype) build cannot fit in memory."""
    from ..inputs.units import format_bytes
    from ..validate.harness import build_bytes, free_memory_bytes
    from . import UsageError

    free = free_memory_bytes(device)
    if free is None:
        return
    per_dtype = {p.dtype: [q for q in points if q.dtype == p.dtype] for p in points}
    need = max(
        build_bytes(model, chosen, backend == "transformers") for chosen in per_dtype.values()
    )
    if need > free:
        raise UsageError(
            f"--model {model.name}: one build needs about {format_bytes(need)} for this grid "
            f"(weights, KV cache, activations), but {device} memory has "
            f"{format_bytes(free)} free; choose a smaller model (the default is "
            f"{DEFAULT_MODEL}), fewer --dtypes, or smaller --batches/--prompt-lens"
        )


def _time_and_print(
    args: argparse.Namespace,
    model: Model,
    hardware: Hardware,
    points: Sequence[Point],
    device: str,
) -> int:
    from ..render.progress import Progress
    from ..validate import run_validation
    from ..validate.compare import host_drift_warning, host_load_warning
    from ..validate.harness import TimingOptions
    from ..validate.render import render_markdown, render_table

    opts = TimingOptions(
        device=device,
        backend=args.backend,
        warmup=args.warmup,
        repeats=args.repeats,
        budget_s=args.budget_s,
        threads=args.threads,
        statistic=args.statistic,
        host_probe=not args.no_host_probe,
        engine=args.engine,
    )
    with Progress(len(points), label="validate", eta=True) as bar:
        result = run_validation(model, hardware, points, opts, lambda p, t: bar.advance())
    notes = [host_load_warning(result), host_drift_warning(result)]
    if any(notes):
        warn([n for n in notes if n])
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(render_markdown(result) if args.format == "markdown" else render_table(result))
    sys.stdout.flush()
    return 0
