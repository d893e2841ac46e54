"""Run the measurements of a ``Plan`` on a backend: raw median times, no interpretation."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..engine.calibration import ELEMENTWISE_FAMILIES, MEASURED_FAMILIES
from ..inputs.dtypes import bytes_per_element
from .plan import AttentionPlan, Plan
from .probes import probe_model
from .timer import median_time_s

Call = Callable[[int], object]
Tick = Callable[[str], None]
TINY = dict(hidden=64, intermediate=128, heads=4, kv_heads=2, head_dim=16)


class Backend(Protocol):
    name: str
    is_cuda: bool

    def session(self) -> AbstractContextManager[None]: ...
    def sync(self) -> None: ...
    def release(self) -> None: ...
    def gemm(self, n: int, dtype: str) -> Call: ...
    def stream(self, nbytes: int) -> list[tuple[str, Call, float]]: ...
    def weights(self, d_in: int, d_out: int, dtype: str, copies: int) -> list[Any]: ...
    def linear(self, weights: list[Any], tokens: int) -> Call: ...
    def attention(
        self, plan: AttentionPlan, dtype: str, batch: int, queries: int, keys: int, copies: int = 1
    ) -> Call: ...
    def elementwise(self, family: str, tokens: int, dims: tuple[int, int], dtype: str) -> Call: ...
    def decoder_step(self, m: Any, dtype: str) -> Call | None: ...


@dataclass
class Series:
    """Median times over one swept variable (tokens, keys)."""

    xs: list[int] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)


@dataclass
class DtypeRun:
    dtype: str
    gemm: list[tuple[int, float]] = field(default_factory=list)
    linear: dict[tuple[int, int], Series] = field(default_factory=dict)
    attention_decode: Series = field(default_factory=Series)
    attention_prefill: Series = field(default_factory=Series)
    elementwise: dict[str, Series] = field(default_factory=dict)
    tiny: dict[str, float] = field(default_factory=dict)
    decoder_steps_s: list[float] | None = None  # tiny-decoder steps at decoder_layers
    decoder_layers: tuple[int, int] = (1, 5)


MAX_CALLS_PER_RUN = 200
BACK_TO_BACK_MAX_TOKENS = 64


def calls_per_run(tokens: int, copies: int) -> int:
    """How many linear calls one timed run makes (each on the next weight copy).

    Up to ``BACK_TO_BACK_MAX_TOKENS`` tokens a linear layer streams its weight and takes
    well under a millisecond: one run is a pass over the copies (at most
    ``MAX_CALLS_PER_RUN``) and its time per call the average. So, as inside a model, one
    figure describes many calls in a row: the fastest *single* call of hundreds is the
    luckiest one (5-25% faster than a pass's average here) and no model runs at that
    speed. Larger token counts are long compute-bound calls, timed one at a time.
    """
    return min(copies, MAX_CALLS_PER_RUN) if tokens <= BACK_TO_BACK_MAX_TOKENS else 1


def back_to_back(call: Call, n: int) -> Call:
    """One call that runs ``call`` n times in a row, on consecutive indices."""
    if n == 1:
        return call

    def run(i: int) -> None:
        for j in range(i * n, i * n + n):
            call(j)

    return run


class Runner:
    """Times calls with the plan's warm-up, repeats and budget."""

    def __init__(self, backend: Backend, plan: Plan, tick: Tick, statistic: str = "median") -> None:
        self.backend, self.plan, self.tick = backend, plan, tick
        self.statistic = statistic

    def time(self, call: Call, *, warmup: int | None = None, repeats: int | None = None) -> float:
        p = self.plan
        return median_time_s(
            call,
            self.backend.sync,
            warmup=p.warmup if warmup is None else warmup,
            repeats=p.repeats if repeats is None else repeats,
            budget_s=p.budget_s,
        ).seconds(self.statistic)

    def stream(self) -> dict[str, float]:
        """bytes/s of each STREAM kernel."""
        out = {}
        for name, call, nbytes in self.backend.stream(self.plan.stream_bytes):
            out[name] = nbytes / self.time(call)
            self.tick(f"stream {name}")
        self.backend.release()
        return out

    def linear_shape(self, run: DtypeRun, d_in: int, d_out: int) -> None:
        p = self.plan
        copies = self.copies(d_in * d_out * bytes_per_element(run.dtype), most=1000)
        weights = self.backend.weights(d_in, d_out, run.dtype, copies)
        series = run.linear.setdefault((d_in, d_out), Series())
        large = d_in * d_out >= p.large_weight_params
        for tokens in p.tokens:
            if large and tokens > p.large_max_tokens:
                break
            # Call i uses copy i mod copies, so each call reads a weight that the other
            # copies have pushed out of the cache. Fast (memory-bound) calls are timed a
            # whole rotation at a time: see ``calls_per_run``.
            per_run = calls_per_run(tokens, copies)
            call = back_to_back(self.backend.linear(weights, tokens), per_run)
            series.xs.append(tokens)
            series.times_s.append(self.time(call) / per_run)
            self.tick(f"{run.dtype} linear {d_in}x{d_out} T={tokens}")
        del weights
        self.backend.release()

    def copies(self, nbytes: float, most: int = MAX_CALLS_PER_RUN) -> int:
        """How many copies of an operand of ``nbytes`` add up to the rotation size, so
        that a call reading the next copy finds it in DRAM, not in the cache."""
        return max(1, min(most, math.ceil(self.plan.rotation_bytes / nbytes)))

    def attention(self, run: DtypeRun) -> None:
        a = self.plan.attention
        for keys in a.keys:
            # Decode reads a KV cache that, in a model, the other layers' weights have
            # pushed out of the cache: rotate over copies and time a pass over them.
            kv_bytes = 2 * a.decode_batch * a.kv_heads * keys * a.head_dim
            copies = self.copies(kv_bytes * bytes_per_element(run.dtype))
            decode = self.backend.attention(a, run.dtype, a.decode_batch, 1, keys, copies)
            run.attention_decode.xs.append(keys)
            run.attention_decode.times_s.append(self.time(back_to_back(decode, copies)) / copies)
            prefill = self.backend.attention(a, run.dtype, 1, keys, keys)
            run.attention_prefill.xs.append(keys)
            run.attention_prefill.times_s.append(self.time(prefill))
            self.tick(f"{run.dtype} attention keys={keys}")
        self.backend.release()

    def elementwise(self, run: DtypeRun) -> None:
        p = self.plan
        for family in MEASURED_FAMILIES:
            series = run.elementwise.setdefault(family, Series())
            for tokens in p.elementwise_tokens:
                call = self.backend.elementwise(family, tokens, p.elementwise_dims, run.dtype)
                series.xs.append(tokens)
                series.times_s.append(self.time(call))
            self.tick(f"{run.dtype} {family}")
        self.backend.release()

    def tiny(self, run: DtypeRun) -> None:
        """Small-size calls of each kind, and tiny-decoder steps at two depths."""
        t = TINY
        weights = self.backend.weights(t["hidden"], t["hidden"], run.dtype, 1)
        many = 5 * self.plan.repeats
        run.tiny["linear"] = self.time(self.backend.linear(weights, 1), repeats=many)
        a = AttentionPlan(t["heads"], t["kv_heads"], t["head_dim"], 1, (9,))
        run.tiny["attention"] = self.time(
            self.backend.attention(a, run.dtype, 1, 1, 9), repeats=many
        )
        dims = (t["hidden"], t["intermediate"])
        for family in ELEMENTWISE_FAMILIES:
            call = self.backend.elementwise(family, 1, dims, run.dtype)
            run.tiny[family] = self.time(call, repeats=many)
        steps = []
        for layers in self.plan.overhead_layers:
            m = probe_model(**t, layers=layers)
            step = self.backend.decoder_step(m, run.dtype)
            if step is None:
                return
            steps.append(self.time(step, warmup=5, repeats=many))
        run.decoder_steps_s = steps
        run.decoder_layers = self.plan.overhead_layers
        self.tick(f"{run.dtype} overhead")

    def dtype_run(self, dtype: str) -> DtypeRun:
        run = DtypeRun(dtype)
        for n in self.plan.gemm_sizes:
            run.gemm.append((n, self.time(self.backend.gemm(n, dtype))))
            self.tick(f"{dtype} gemm {n}")
        self.backend.release()
        for d_in, d_out in self.plan.linear_shapes:
            self.linear_shape(run, d_in, d_out)
        self.attention(run)
        self.elementwise(run)
        self.tiny(run)
        return run


def _pick(values: list[float], statistic: str) -> float:
    return min(values) if statistic == "min" else statistics.median(values)


def _merge_series(series: list[Series], statistic: str) -> Series:
    times = [_pick([s.times_s[i] for s in series], statistic) for i in range(len(series[0].xs))]
    return Series(list(series[0].xs), times)


def merge_runs(runs: list[DtypeRun], statistic: str) -> DtypeRun:
    """One run from several passes of the same sweep: per point, the fastest pass
    (``"min"``) or the median over passes, so a slow spell of the host in one pass does
    not decide a point."""
    first = runs[0]
    merged = DtypeRun(first.dtype, decoder_layers=first.decoder_layers)
    merged.gemm = [
        (n, _pick([r.gemm[i][1] for r in runs], statistic)) for i, (n, _) in enumerate(first.gemm)
    ]
    merged.linear = {k: _merge_series([r.linear[k] for r in runs], statistic) for k in first.linear}
    merged.attention_decode = _merge_series([r.attention_decode for r in runs], statistic)
    merged.attention_prefill = _merge_series([r.attention_prefill for r in runs], statistic)
    merged.elementwise = {
        k: _merge_series([r.elementwise[k] for r in runs], statistic) for k in first.elementwise
    }
    merged.tiny = {k: _pick([r.tiny[k] for r in runs], statistic) for k in first.tiny}
    if first.decoder_steps_s is not None:
        steps = [r.decoder_steps_s or [] for r in runs]
        merged.decoder_steps_s = [
            _pick([s[i] for s in steps], statistic) for i in range(len(steps[0]))
        ]
    return merged


def merge_stream(passes: list[dict[str, float]], statistic: str) -> dict[str, float]:
    """Bytes/s per STREAM kernel over passes: the best (``"min"`` time) or the median."""
    pick = max if statistic == "min" else statistics.median
    return {k: float(pick([p[k] for p in passes])) for k in passes[0]}


def step_count(plan: Plan, dtypes: int) -> int:
    """How many ticks a run makes (for a progress bar)."""
    linear = 0
    for d_in, d_out in plan.linear_shapes:
        large = d_in * d_out >= plan.large_weight_params
        linear += sum(1 for t in plan.tokens if not (large and t > plan.large_max_tokens))
    per_dtype = (
        len(plan.gemm_sizes) + linear + len(plan.attention.keys) + len(MEASURED_FAMILIES) + 1
    )
    return 3 + dtypes * per_dtype
