"""``plan(...)``: the best deployment under TTFT/TPOT limits, its runner-ups and the Pareto
frontier, each with the reason it wins (docs/PLAN.md).

The search: every device type, every total device count N, every layout whose replica
(tensor or expert × pipeline devices) divides N (N / replica data-parallel replicas;
pipelines run as many micro-batches as stages), every batch of the grid, weight and KV
format and chunk size. Each layout is priced once per format over the whole batch grid
(studies/plan_eval.py: the sweep's array evaluation) and serves every N it divides.
A deployment is feasible when its serving memory fits (1 − reserve) of each device and
its TTFT and TPOT (plan_eval's continuous-batching model) meet the limits. The objective
is output tokens/s per device, or per dollar when device prices are given.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from ..engine.analyze import check_layout, roofs_for
from ..engine.memory import DEFAULT_RESERVE_FRACTION
from ..inputs import checks
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .plan_eval import Evaluated, Mix, RequestClass, continuous_batching, evaluate
from .plan_result import (
    Deployment,
    Limits,
    PlanInfeasible,
    PlanResult,
    Table,
    deployment,
    diagnose,
    pareto_rows,
)
from .plan_why import explain
from .sweep import resolve_input
from .sweep_eval import ARRAY_TIMING, prices_arrays

DEFAULT_BATCH_SIZES = tuple(2**k for k in range(10))  # 1 .. 512
MODES = ("aggregated", "disaggregated", "both")


def layouts(
    m: Model,
    hw: Hardware,
    totals: Sequence[int],
    tensor: Sequence[int] | None = None,
    pipeline: Sequence[int] | None = None,
    expert: Sequence[int] | None = None,
) -> list[Layout]:
    """Every valid layout whose replica (max(t, e) × p devices) divides one of the totals."""
    divisors = sorted({d for n in totals for d in range(1, n + 1) if n % d == 0})
    ts = tensor or divisors
    ps = pipeline or [d for d in divisors if d <= m.num_layers]
    es = expert or ([1] if m.moe is None else divisors)
    found = []
    for t in ts:
        for e in es:
            if e > 1 and e % t:
                continue
            for p in ps:
                devices = max(t, e) * p
                if not any(n % devices == 0 for n in totals):
                    continue
                layout = Layout(tensor=t, pipeline=p, expert=e, micro_batches=p)
                try:
                    check_layout(m, hw, layout)
                except ValueError:
                    continue
                found.append(layout)
    return found


def _check_inputs(
    devices: Sequence[int], batches: Sequence[int], mode: str, objective: str, limits: Limits
) -> None:
    for n in devices:
        checks.integer("devices", n, minimum=1)
    for b in batches:
        checks.integer("batch_sizes", b, minimum=1)
    checks.choice("mode", mode, MODES)
    checks.choice("objective", objective, ("device", "dollar"))
    for name in ("ttft_s", "tpot_s"):
        value = getattr(limits, name)
        if value is not None:
            checks.positive(name, value)
    checks.non_negative("reserve_fraction", limits.reserve_fraction)
    if limits.reserve_fraction >= 1:
        raise ValueError(f"reserve_fraction must be in [0, 1), got {limits.reserve_fraction!r}")


def _prices(
    price: float | Mapping[str, float] | None, hardware: Sequence[Hardware]
) -> dict[str, float] | None:
    """Price per device-hour of each device (one number: the same for all)."""
    if price is None:
        return None
    if isinstance(price, Mapping):
        out = {}
        for hw in hardware:
            key = next((k for k in (hw.id, hw.name) if k in price), None)
            if key is None:
                raise ValueError(f"price_per_hour has no price for hardware {hw.id or hw.name!r}")
            out[hw.id or hw.name] = float(checks.positive(f"price_per_hour[{key}]", price[key]))
        return out
    return {hw.id or hw.name: float(checks.positive("price_per_hour", price)) for hw in hardware}


def plan(
    model: Any,
    hardware: Any,
    devices: int | Sequence[int],
    *,
    requests: Sequence[RequestClass] | None = None,
    prompt_len: int = 2048,
    output_len: int = 256,
    ttft_s: float | None = None,
    tpot_s: float | None = None,
    requests_per_s: float | None = None,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    weight_dtypes: Sequence[str] = ("bf16",),
    kv_dtypes: Sequence[str] = ("bf16",),
    chunk_sizes: Sequence[int | None] = (None,),
    tensor: Sequence[int] | None = None,
    pipeline: Sequence[int] | None = None,
    expert: Sequence[int] | None = None,
    workload: Workload | None = None,
    price_per_hour: float | Mapping[str, float] | None = None,
    mode: str = "aggregated",
    reserve_fraction: float = DEFAULT_RESERVE_FRACTION,
    kv_transfer_bytes_per_s: float | None = None,
    top: int = 5,
) -> PlanResult:
    """Search every deployment (module docstring) and return the best, the runner-ups and the
    Pareto frontier; raises PlanInfeasible (a ValueError) saying which limit fails first."""
    start = time.perf_counter()
    m = resolve_input("model", model)
    hws = [
        resolve_input("hardware", h)
        for h in ([hardware] if isinstance(hardware, (str, Hardware)) else hardware)
    ]
    totals = sorted({devices} if isinstance(devices, int) else set(devices))
    classes = list(requests) if requests else [RequestClass(prompt_len, output_len)]
    if requests_per_s is not None:
        checks.positive("requests_per_s", requests_per_s)
    limits = Limits(ttft_s, tpot_s, reserve_fraction, requests_per_s)
    prices = _prices(price_per_hour, hws)
    objective = "dollar" if prices else "device"
    _check_inputs(totals, batch_sizes, mode, objective, limits)
    base = workload or Workload()
    for c in chunk_sizes:
        if c is not None:
            checks.integer("chunk_sizes", c, minimum=1)
    batch = np.asarray(sorted(set(batch_sizes)), dtype=np.int64)
    degrees = (tensor, pipeline, expert)
    formats = [
        [replace(base, weight_dtype=wd, kv_dtype=kd) for kd in kv_dtypes] for wd in weight_dtypes
    ]
    evaluated = _evaluate_all(m, hws, totals, degrees, formats, chunk_sizes, classes, batch, mode)
    if not evaluated:
        raise PlanInfeasible(
            f"no layout of {m.name} divides the device counts {totals} (heads, KV heads, layers, experts)"
        )
    table = aggregated_table(evaluated, classes, totals, limits, prices)
    disagg = None
    if mode != "aggregated":
        from .disaggregated import best_disaggregated

        disagg = best_disaggregated(
            evaluated, classes, totals, limits, prices, kv_transfer_bytes_per_s
        )
    result = assemble(m, classes, table, disagg, limits, objective, mode, top)
    return replace(result, seconds=time.perf_counter() - start)


def _evaluate_all(
    m: Model,
    hws: Sequence[Hardware],
    totals: Sequence[int],
    degrees: tuple[Sequence[int] | None, ...],
    formats: Sequence[Sequence[Workload]],
    chunk_sizes: Sequence[int | None],
    classes: Sequence[RequestClass],
    batch: np.ndarray,
    mode: str,
) -> list[Evaluated]:
    """Every layout of every device, per weight format (its KV formats in one evaluation)."""
    evaluated: list[Evaluated] = []
    for hw in hws:
        if not prices_arrays(roofs_for(hw, formats[0][0])):  # names a missing compute dtype
            raise ValueError(f"hardware {hw.name!r}: {ARRAY_TIMING}")
        for layout in layouts(m, hw, totals, *degrees):
            for same_weights in formats:
                for chunk in chunk_sizes:
                    pool = mode != "aggregated"
                    evaluated += evaluate(
                        m, hw, layout, same_weights, classes, batch, chunk, prefill_pool=pool
                    )
    return evaluated


def aggregated_table(
    evaluated: Sequence[Evaluated],
    classes: Sequence[RequestClass],
    totals: Sequence[int],
    limits: Limits,
    prices: dict[str, float] | None,
) -> Table:
    """Every aggregated deployment as columns: (evaluation, device total, batch) rows."""
    mix = Mix.of(classes)
    lens = np.asarray([c.output_len for c in classes], dtype=float)
    parts: dict[str, list[np.ndarray]] = {}
    for i, ev in enumerate(evaluated):
        pf, dec = mix.prefill_s(ev.prefill_s), mix.decode_s(ev.decode_s, lens)
        rate, tpot = continuous_batching(ev.batch, pf, dec, mix.output_len, mix.decode_steps)
        per_device = rate / ev.devices
        usable = (1 - limits.reserve_fraction) * ev.hardware.memory_bytes
        for n in totals:
            if n % ev.devices:
                continue
            k = len(ev.batch)
            cols = {
                "eval": np.full(k, i),
                "requests_per_s": per_device * n / mix.output_len,
                "devices": np.full(k, n),
                "batch_index": np.arange(k),
                "ttft_s": np.full(k, ev.prefill_s.max()),
                "tpot_s": tpot,
                "tokens_per_s_per_device": per_device,
                "tokens_per_s_per_user": 1 / tpot,
                "memory_bytes_per_device": ev.memory_bytes,
                "fits": ev.memory_bytes <= usable,
                "value": per_device
                if prices is None
                else per_device / prices[ev.hardware.id or ev.hardware.name],
            }
            for name, col in cols.items():
                parts.setdefault(name, []).append(np.asarray(col))
    columns = {k: np.concatenate(v) for k, v in parts.items()}
    meets = columns["fits"].copy()
    if limits.ttft_s is not None:
        meets &= columns["ttft_s"] <= limits.ttft_s
    if limits.tpot_s is not None:
        meets &= columns["tpot_s"] <= limits.tpot_s
    if limits.requests_per_s is not None:
        meets &= columns["requests_per_s"] >= limits.requests_per_s
    columns["meets"] = meets
    return Table(list(evaluated), columns, prices, limits.reserve_fraction)


def assemble(
    m: Model,
    classes: Sequence[RequestClass],
    table: Table,
    disagg: Any,
    limits: Limits,
    objective: str,
    mode: str,
    top: int,
) -> PlanResult:
    """Best, runner-ups (the best batch of each other layout), Pareto frontier, explanations."""
    c = table.columns
    meets = np.flatnonzero(c["meets"])
    disagg_best = None if disagg is None else disagg.best
    if not len(meets) and disagg_best is None:
        raise PlanInfeasible(diagnose(table, limits, classes))
    ranked: list[int] = []
    if len(meets):  # the best row of each (evaluation, device total), best first
        order = meets[np.argsort(-c["value"][meets], kind="stable")]
        group = c["eval"][order].astype(np.int64) * (int(c["devices"].max()) + 1) + c["devices"][
            order
        ].astype(np.int64)
        _groups, first = np.unique(group, return_index=True)
        ranked = [int(r) for r in order[np.sort(first)]]
    fits = np.flatnonzero(c["fits"])
    frontier = (
        pareto_rows(c["tokens_per_s_per_device"], c["tokens_per_s_per_user"], fits)
        if len(fits)
        else []
    )
    shown = ranked[: max(top, 1)]
    whys = explain(m, classes, table, shown, limits)
    candidates = [deployment(table, r, whys.get(r, "")) for r in shown]
    agg_best = candidates[0] if candidates else None
    best = _pick(agg_best, disagg_best, mode, objective, table)
    return PlanResult(
        model=m.name,
        objective=objective,
        mode=mode,
        sla={
            "ttft_s": limits.ttft_s,
            "tpot_s": limits.tpot_s,
            "requests_per_s": limits.requests_per_s,
            "reserve_fraction": limits.reserve_fraction,
        },
        requests=[asdict(r) for r in classes],
        best=best,
        candidates=candidates,
        pareto=[deployment(table, r) for r in frontier],
        searched=len(c["eval"]) + (0 if disagg is None else disagg.searched),
        seconds=0.0,
        aggregated_best=agg_best,
        disaggregated_best=disagg_best,
        comparison="" if disagg is None else disagg.comparison(agg_best),
        points={
            "tokens_per_s_per_device": c["tokens_per_s_per_device"][fits],
            "tokens_per_s_per_user": c["tokens_per_s_per_user"][fits],
            "meets": c["meets"][fits],
        },
    )


def _pick(
    agg: Deployment | None, dis: Deployment | None, mode: str, objective: str, table: Table
) -> Deployment:
    if mode == "aggregated" or dis is None:
        assert agg is not None
        return agg
    if mode == "disaggregated" or agg is None:
        return dis
    return dis if _value(dis, objective, table) > _value(agg, objective, table) else agg


def _value(d: Deployment, objective: str, table: Table) -> float:
    if objective == "device" or table.prices is None:
        return d.tokens_per_s_per_device
    return d.tokens_per_s_per_device / table.prices[d.hardware]
