"""Argument groups shared by the commands: model, hardware (with overrides), workload.

    add_model_args(parser)        --model            model_from_args(args) -> Model
    add_hardware_args(parser)     --hardware, --peak-flops, --bandwidth, --memory
                                                     hardware_from_args(args) -> Hardware
    add_workload_args(parser)     --batch, --prompt-len, --context-len, --output-len,
                                  --weight-dtype, --kv-dtype, --act-dtype, --attention, ...
                                                     workload_from_args(args) -> Workload

With ``multiple=True`` the model and hardware flags take comma-separated lists
(``models_from_args``, ``hardware_list_from_args``). Values are checked as they are parsed,
so a bad one is reported as ``argument --batch: ...`` (exit 2) naming the flag; a name the
catalogs do not know, or a file that does not parse, is a ``UsageError`` naming the flag.
Only light modules are imported here: ``--help`` must stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import UsageError
from .values import (
    dtype,
    int_at_least,
    names_list,
    peak,
    plot_file,
    quantity,
    split_list,
    text_value,
    writable_file,
)

if TYPE_CHECKING:
    from ..inputs.hardware import Hardware
    from ..inputs.layout import Parallelism
    from ..inputs.model import Model
    from ..inputs.workload import Workload

DEFAULT_MODEL = "llama-3.1-8b"
DEFAULT_HARDWARE = "h100-sxm"
ATTENTION_CHOICES = ("flash", "eager")
LOGITS_CHOICES = ("last", "all")


def one_name(flag: str, text: str, what: str, command: str) -> str:
    """A single-valued name flag: the value whole; a comma list is refused, naming the flag."""
    name = text.strip()
    if not name:
        raise UsageError(f"{flag}: expected {what}, got {text!r}")
    if "," in name and not Path(name).expanduser().exists():
        raise UsageError(
            f"{flag} takes one {what} here, got {text!r} (`llm-roofline {command}` takes a list)"
        )
    return name


__all__ = [
    "dtype",
    "int_at_least",
    "names_list",
    "peak",
    "plot_file",
    "quantity",
    "split_list",
    "text_value",
    "writable_file",
]


# ---- model ---------------------------------------------------------------------------


def add_model_args(
    parser: argparse.ArgumentParser, *, multiple: bool = False, default: str = DEFAULT_MODEL
) -> None:
    what = "models, comma-separated" if multiple else "a model"
    parser.add_argument(
        "--model",
        default=default,
        type=text_value,
        metavar="MODELS" if multiple else "MODEL",
        help=f"{what}: preset alias or repo id, config.json path, or cached HF repo id "
        f"(default {default}; see `llm-roofline models`)",
    )


def load_model(name: str, flag: str = "--model") -> Model:
    """``get_model`` with its errors reported against ``flag``."""
    from ..catalog.model_catalog import get_model

    try:
        return get_model(name)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        raise UsageError(f"{flag} {name!r}: {_message(exc)}") from None


def model_from_args(args: argparse.Namespace) -> Model:
    return load_model(one_name("--model", args.model, "model", "compare"))


def models_from_args(args: argparse.Namespace) -> list[tuple[str, Model]]:
    """(name as given, Model) for each of ``--model A,B``."""
    names = names_list(args.model)
    if not names:
        raise UsageError("--model: no model given")
    return [(name, load_model(name)) for name in names]


# ---- hardware ------------------------------------------------------------------------


def add_hardware_args(parser: argparse.ArgumentParser, *, multiple: bool = False) -> None:
    from ..inputs.bounds import BANDWIDTH, MEMORY
    from ..inputs.units import parse_bytes, parse_bytes_per_s

    what = "devices, comma-separated" if multiple else "a device"
    group = parser.add_argument_group("hardware")
    group.add_argument(
        "--hardware",
        default=DEFAULT_HARDWARE,
        type=text_value,
        metavar="DEVICES" if multiple else "DEVICE",
        help=f"{what}: preset id or alias, or a .json/.toml device file "
        f"(default {DEFAULT_HARDWARE}; see `llm-roofline hardware`)",
    )
    group.add_argument(
        "--peak-flops",
        type=peak,
        action="append",
        metavar="FLOPS",
        help="override a peak: '989T' for the compute dtype, or 'fp8=1979T' (repeatable)",
    )
    group.add_argument(
        "--bandwidth",
        type=quantity(parse_bytes_per_s, BANDWIDTH),
        metavar="BYTES/S",
        help="override the memory bandwidth, e.g. '3.35 TB/s' or 3.35e12",
    )
    group.add_argument(
        "--memory",
        type=quantity(parse_bytes, MEMORY),
        metavar="BYTES",
        help="override the memory capacity, e.g. '80GB' (10^9) or '80GiB' (2^30)",
    )


def load_hardware(spec: str, args: argparse.Namespace) -> Hardware:
    """A preset or device file (errors against ``--hardware``), with the flag overrides."""
    from ..catalog.hardware_catalog import apply_overrides, resolve_hardware

    try:
        hardware = resolve_hardware(spec)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        raise UsageError(f"--hardware {spec!r}: {_message(exc)}") from None
    peaks: dict[str, float] = {}
    for dtype_name, value in getattr(args, "peak_flops", None) or ():
        if dtype_name is None:  # the dtype the workload's matmuls run at on this device
            act = getattr(args, "act_dtype", None) or "bf16"
            try:
                dtype_name = hardware.compute_dtype_for(act)
            except ValueError:
                dtype_name = act
        peaks[dtype_name] = value
    overrides: dict[str, Any] = {"peak_flops_per_s": peaks} if peaks else {}
    for flag, field in (("bandwidth", "bandwidth_bytes_per_s"), ("memory", "memory_bytes")):
        if getattr(args, flag, None) is not None:
            overrides[field] = getattr(args, flag)
    if not overrides:
        return hardware
    try:
        return apply_overrides(hardware, overrides)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"hardware overrides: {_message(exc)}") from None


def hardware_from_args(args: argparse.Namespace) -> Hardware:
    return load_hardware(one_name("--hardware", args.hardware, "device", "compare"), args)


def hardware_list_from_args(args: argparse.Namespace) -> list[tuple[str, Hardware]]:
    """(spec as given, Hardware) for each of ``--hardware H1,H2``."""
    specs = names_list(args.hardware)
    if not specs:
        raise UsageError("--hardware: no device given")
    return [(spec, load_hardware(spec, args)) for spec in specs]


# ---- workload ------------------------------------------------------------------------


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    """The Workload's fields as flags; defaults are the Workload's own (None: not given)."""
    from ..inputs.bounds import BATCH, TOKENS, WIDTH
    from ..inputs.dtypes import ACTIVATION_DTYPES, WEIGHT_DTYPES

    group = parser.add_argument_group("workload")
    add = group.add_argument
    add("--batch", type=int_at_least(1, BATCH), metavar="N", help="sequences (default 1)")
    add("--prompt-len", type=int_at_least(1, TOKENS), metavar="N", help="prompt tokens (2048)")
    add(
        "--context-len",
        type=int_at_least(0, TOKENS),
        metavar="N",
        help="tokens cached at the decode step (default: the prompt length)",
    )
    add("--output-len", type=int_at_least(0, TOKENS), metavar="N", help="generated tokens (256)")
    add(
        "--weight-dtype",
        type=dtype(WEIGHT_DTYPES),
        metavar="DTYPE",
        help="bf16, fp16, fp8, int8, int4, fp4, or a block format: mxfp4, nvfp4, q8_0, q4_0",
    )
    add("--kv-dtype", type=dtype(), metavar="DTYPE", help="KV-cache dtype (bf16)")
    add(
        "--act-dtype",
        type=dtype(ACTIVATION_DTYPES),
        metavar="DTYPE",
        help="activations, and the peak the matmuls run at (bf16; fp4 = NVFP4/MXFP4)",
    )
    add(
        "--weight-group-size",
        type=int_at_least(1, WIDTH),
        metavar="N",
        help="weights per scale: int4/fp4 (128), int8/fp8 (per-channel unless given)",
    )
    add("--attention", choices=ATTENTION_CHOICES, help="flash (default) or eager")
    add("--logits", choices=LOGITS_CHOICES, help="lm_head on the last position (default) or all")
    add(
        "--engine",
        metavar="ENGINE",
        help="whose kernels and fixed costs the expected time describes: generic (default, a "
        "well-tuned server engine), tensorrt-llm, vllm, sglang, llama.cpp, gpt-fast, mlx; "
        "with a measured profile also transformers (its DynamicCache) and transformers-static",
    )


_WORKLOAD_FLAGS = {
    "batch": "batch_size",
    "prompt_len": "prompt_len",
    "context_len": "context_len",
    "output_len": "output_len",
    "weight_dtype": "weight_dtype",
    "kv_dtype": "kv_dtype",
    "act_dtype": "activation_dtype",
    "weight_group_size": "weight_group_size",
    "attention": "attention",
    "logits": "logits",
    "engine": "engine",
}


def workload_from_args(args: argparse.Namespace) -> Workload:
    """A Workload from the flags given (the rest keep the Workload's defaults)."""
    from ..inputs.workload import Workload

    given = {
        field: getattr(args, dest)
        for dest, field in _WORKLOAD_FLAGS.items()
        if getattr(args, dest, None) is not None
    }
    try:
        return Workload(**given)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"workload: {_message(exc)}") from None


def require(module: str) -> None:
    """A ModuleNotFoundError for ``module`` (an optional extra) before any work starts;
    ``main`` reports it as one line naming the extra to install."""
    from ..measure.device import installed

    if not installed(module):
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)


# ---- output --------------------------------------------------------------------------


def warn(lines: Iterable[str]) -> None:
    """Each line on stderr as ``llm-roofline: warning: ...``."""
    for line in lines:
        print(f"llm-roofline: warning: {line}", file=sys.stderr)


def _message(exc: BaseException) -> str:
    """The text of an exception (a KeyError's repr-quoted argument unwrapped)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc)


def add_parallelism_args(parser: argparse.ArgumentParser) -> None:
    """--tp, --pp, --ep, --dp, --micro-batches (reusable by other commands)."""
    from ..inputs.bounds import BATCH, DEGREE

    group = parser.add_argument_group("parallelism (docs/PARALLELISM.md)")
    add = group.add_argument
    degree = int_at_least(1, DEGREE)
    add("--tp", type=degree, default=1, metavar="N", help="tensor-parallel degree (1)")
    add("--pp", type=degree, default=1, metavar="N", help="pipeline stages (1)")
    add("--ep", type=degree, default=1, metavar="N", help="expert-parallel degree (1)")
    add(
        "--dp",
        type=degree,
        default=1,
        metavar="N",
        help="data-parallel replicas, each with its own --batch (1): throughput scales",
    )
    add(
        "--micro-batches",
        type=int_at_least(1, BATCH),
        default=1,
        metavar="N",
        help="pipeline micro-batches per phase (1)",
    )


def parallelism_from_args(args: argparse.Namespace) -> Parallelism | None:
    """None for one device (the exact single-device analysis), else the layout."""
    from ..inputs.layout import Parallelism

    data = getattr(args, "dp", 1)
    degrees = (args.tp, args.pp, args.ep, data, args.micro_batches)
    if degrees == (1, 1, 1, 1, 1):
        return None
    try:
        return Parallelism(
            tensor=args.tp,
            pipeline=args.pp,
            expert=args.ep,
            data=data,
            micro_batches=args.micro_batches,
        )
    except (ValueError, TypeError) as exc:
        raise UsageError(f"parallelism: {exc}") from None


def list_or_show(
    command: str, words: list[str], listing: Callable[[str | None], str], show: Callable[[str], str]
) -> int:
    """`COMMAND [FILTER]` prints ``listing(FILTER)``; `COMMAND show NAME` prints ``show(NAME)``."""
    if words[:1] == ["show"]:
        if len(words) != 2:
            raise UsageError(f"usage: llm-roofline {command} show NAME")
        print(show(words[1]))
    elif len(words) <= 1:
        print(listing(words[0] if words else None))
    else:
        raise UsageError(f"{command} takes one FILTER or `show NAME`, got {' '.join(words)!r}")
    return 0
