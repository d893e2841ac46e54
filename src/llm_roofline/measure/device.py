"""Which device and dtypes a measurement runs on: pure logic, testable without a GPU.

The torch-facing callers pass in what torch reports (``torch.cuda.is_available()``,
``torch.cuda.is_bf16_supported()``), so every branch is unit-tested on a CPU.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

from ..inputs.dtypes import normalize

DEVICES = ("auto", "cpu", "cuda")
BACKENDS = ("torch", "numpy")
MEASURABLE_DTYPES = ("fp32", "bf16", "fp16")


def select_device(requested: str, *, backend: str, cuda_available: bool) -> str:
    """'cpu' or 'cuda' for ``requested`` ('auto' picks cuda when torch sees one).

    Raises ValueError for cuda without a visible CUDA device or with the numpy backend.
    """
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}; got {requested!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "numpy":
        if requested == "cuda":
            raise ValueError("device cuda needs the torch backend (numpy runs on the CPU only)")
        return "cpu"
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    if requested == "cuda" and not cuda_available:
        raise ValueError(
            "device cuda requested but torch sees no CUDA device (torch.cuda.is_available() "
            "is False: a CPU-only torch build, no driver, or CUDA_VISIBLE_DEVICES hides it)"
        )
    return requested


def select_dtypes(
    requested: Sequence[str], *, backend: str, device: str, bf16_supported: bool
) -> tuple[str, ...]:
    """Canonical dtype names, in order, each checked against the backend and device.

    numpy has no bfloat16 or fast fp16 matmul (fp32 only); a GPU without bf16 support
    (before Ampere) rejects bf16 with the reason.
    """
    if not requested:
        raise ValueError("give at least one dtype to measure (e.g. fp32,bf16)")
    out: list[str] = []
    for name in requested:
        dtype = normalize("dtype", name, MEASURABLE_DTYPES)
        if backend == "numpy" and dtype != "fp32":
            raise ValueError(f"the numpy backend measures fp32 only, not {dtype}")
        if device == "cuda" and dtype == "bf16" and not bf16_supported:
            raise ValueError(
                "this CUDA device does not support bf16 (needs compute capability 8.0+)"
            )
        if dtype not in out:
            out.append(dtype)
    return tuple(out)


def parse_list(text: str) -> list[str]:
    """'fp32, bf16' -> ['fp32', 'bf16'] (empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_ints(field: str, text: str, minimum: int = 1) -> list[int]:
    """'1,4,16' -> [1, 4, 16]; each a whole number >= ``minimum``, or ValueError naming ``field``."""
    values = []
    for item in parse_list(text):
        try:
            value = int(item)
        except ValueError:
            raise ValueError(
                f"{field} must be comma-separated whole numbers, got {item!r}"
            ) from None
        if value < minimum:
            raise ValueError(f"{field} values must be >= {minimum}, got {value}")
        values.append(value)
    if not values:
        raise ValueError(f"{field} needs at least one value")
    return values


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (cheap: no torch start-up)."""
    if module in sys.modules:
        return sys.modules[module] is not None  # None: an import that is blocked
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def available_backend(requested: str) -> str:
    """'torch' or 'numpy' for ``requested`` (auto: torch, else numpy), or a
    ModuleNotFoundError naming the module the extra provides."""
    if requested not in ("auto", *BACKENDS):
        raise ValueError(f"backend must be auto, torch or numpy; got {requested!r}")
    if requested in ("auto", "torch") and installed("torch"):
        return "torch"
    if requested in ("auto", "numpy") and installed("numpy"):
        return "numpy"
    missing = "numpy" if requested == "numpy" else "torch"
    raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
