"""Run a real transformer and compare its measured times with the roofline predictions.

``model``: a compact Llama-family decoder in PyTorch built from a ``Model`` (random
weights); ``harness``: prefill and decode timings on a grid; ``compare``: measured vs
predicted (ideal and calibrated) with the error of each. torch is imported only by the
modules that need it, never by this package's import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..inputs.hardware import Hardware
    from ..inputs.model import Model
    from .compare import Validation
    from .harness import Point, Timed, TimingOptions


def run_validation(
    m: Model,
    hw: Hardware,
    points: Sequence[Point],
    opts: TimingOptions,
    tick: Callable[[Point, Timed], None] | None = None,
) -> Validation:
    """Time every point on the real model, then compare with the predictions for ``hw``."""
    on_point = None if tick is None else (lambda _m, p, t: tick(p, t))
    return run_validations([(m, points)], hw, opts, on_point)[0]


def run_validations(
    groups: Sequence[tuple[Model, Sequence[Point]]],
    hw: Hardware,
    opts: TimingOptions,
    tick: Callable[[Model, Point, Timed], None] | None = None,
) -> list[Validation]:
    """``run_validation`` for several models, timed in shared rounds (``time_models``):
    one Validation per model, in order."""
    from .compare import compare, host_meta, validation
    from .drift import RoundProbe, profile_speed
    from .harness import describe, time_models

    reference = profile_speed(hw.efficiency_table) if opts.host_probe else None
    probe = None
    if reference is not None:
        from ..measure.profile import llc_bytes

        dtypes = sorted({p.dtype for _, points in groups for p in points})
        probe = RoundProbe(reference, dtypes, opts.device, llc_bytes())
    out = []
    timings = time_models(groups, opts, tick, probe=probe)
    for (m, _), timed in zip(groups, timings, strict=True):
        meta = {"model": m.name, "hardware": hw.name, "hardware_source": hw.source}
        meta |= describe(opts) | {"engine": opts.engine, "layers": m.num_layers}
        rows = compare(m, hw, timed, opts.engine, opts.statistic)
        v = validation(rows, meta)
        v.meta["host_probe"] = host_meta(v.rows, None if probe is None else probe.retries)
        out.append(v)
    return out
