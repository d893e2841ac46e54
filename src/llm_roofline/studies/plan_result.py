"""The result of `plan`: deployments, the Pareto frontier, and the diagnosis when nothing
meets the limits. Computes no costs of its own (the table holds them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..inputs.hardware import Hardware
from ..inputs.model import Model
from ..inputs.units import format_bytes, format_seconds
from .plan_eval import Evaluated, RequestClass
from .sweep import cost_per_million_tokens

if TYPE_CHECKING:
    from .plan import Limits


class PlanInfeasible(ValueError):
    """No deployment meets the limits; the message says which limit fails first, by how much."""


@dataclass(frozen=True)
class Deployment:
    mode: str  # "aggregated" | "disaggregated"
    hardware: str
    devices: int  # used
    layout: dict[str, int]  # tensor, pipeline, expert, data (decode pool's when disaggregated)
    batch_size: int
    weight_dtype: str
    kv_dtype: str
    chunk_size: int | None
    ttft_s: float
    tpot_s: float
    tokens_per_s_per_device: float
    tokens_per_s_per_user: float
    tokens_per_s: float
    memory_bytes_per_device: float
    memory_headroom_bytes: float  # usable memory left on the fullest device
    prefill_bound: str
    decode_bound: str
    cost_per_million_tokens: float | None
    why: str = ""
    prefill_pool: dict[str, Any] | None = None  # disaggregated: layout and replicas
    decode_pool: dict[str, Any] | None = None

    def label(self) -> str:
        lay = self.layout
        ep = f" EP {lay['expert']}" if lay["expert"] > 1 else ""
        chunk = f", chunks of {self.chunk_size}" if self.chunk_size else ""
        if self.mode == "disaggregated" and self.prefill_pool and self.decode_pool:
            return (
                f"{self.prefill_pool['replicas']}× prefill {_short(self.prefill_pool['layout'])} + "
                f"{self.decode_pool['replicas']}× decode {_short(self.decode_pool['layout'])} at batch "
                f"{self.batch_size} ({self.weight_dtype}, KV {self.kv_dtype})"
            )
        return (
            f"TP {lay['tensor']} PP {lay['pipeline']}{ep} × {lay['data']} on {self.devices} "
            f"{self.hardware}, batch {self.batch_size} ({self.weight_dtype}, KV {self.kv_dtype}{chunk})"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("prefill_pool", "decode_pool"):
            if data[key] is None:
                del data[key]
        return data


def _short(layout: dict[str, int]) -> str:
    ep = f" EP {layout['expert']}" if layout["expert"] > 1 else ""
    return f"TP {layout['tensor']} PP {layout['pipeline']}{ep}"


@dataclass(frozen=True)
class Table:
    """Every aggregated deployment as columns (plan.aggregated_table)."""

    evaluated: list[Evaluated]
    columns: dict[str, np.ndarray]
    prices: dict[str, float] | None
    reserve: float = 0.1

    def cost(self, hw: Hardware, tokens_per_s_per_device: float) -> float | None:
        if self.prices is None:
            return None
        return float(
            cost_per_million_tokens(self.prices[hw.id or hw.name], 1, tokens_per_s_per_device)
        )


@dataclass(frozen=True)
class PlanResult:
    model: str
    objective: str  # "device": tokens/s per device; "dollar": per device per price
    mode: str
    sla: dict[str, float | None]
    requests: list[dict[str, Any]]
    best: Deployment
    candidates: list[Deployment]
    pareto: list[Deployment]
    searched: int
    seconds: float
    aggregated_best: Deployment | None = None
    disaggregated_best: Deployment | None = None
    comparison: str = ""  # disaggregated vs aggregated, in words
    points: dict[str, list[float]] = field(default_factory=dict, repr=False)  # for the plot

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "best": self.best.to_dict(),
            "candidates": [d.to_dict() for d in self.candidates],
            "pareto": [d.to_dict() for d in self.pareto],
            "searched": self.searched,
            "seconds": self.seconds,
            "model": self.model,
            "objective": self.objective,
            "mode": self.mode,
            "sla": self.sla,
            "requests": self.requests,
        }
        if self.mode != "aggregated":
            out["disaggregated"] = {
                "best": None
                if self.disaggregated_best is None
                else self.disaggregated_best.to_dict(),
                "aggregated_best": None
                if self.aggregated_best is None
                else self.aggregated_best.to_dict(),
                "comparison": self.comparison,
            }
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def pareto_rows(per_device: np.ndarray, per_user: np.ndarray, rows: np.ndarray) -> list[int]:
    """Rows no other row beats on both tokens/s per device and per user, by per-user rate."""
    order = rows[np.lexsort((-per_device[rows], -per_user[rows]))]
    frontier, best = [], -np.inf
    for r in order:
        if per_device[r] > best:
            frontier.append(int(r))
            best = per_device[r]
    return frontier


def over(value: float, limit: float) -> str:
    """How far ``value`` is over ``limit``: '38% over the 10.0 ms limit' or '5.2× the ...'."""
    ratio = value / limit
    if ratio >= 2:
        return f"{ratio:.3g}× the {format_seconds(limit)} limit"
    return f"{100 * (ratio - 1):.0f}% over the {format_seconds(limit)} limit"


def diagnose(table: Table, limits: Limits, classes: Sequence[RequestClass]) -> str:
    """Which limit no deployment meets, first: memory, then TTFT, then TPOT, then both."""
    from .plan import deployment

    c = table.columns
    fits = np.flatnonzero(c["fits"])
    if not len(fits):
        row = int(np.argmin(c["memory_bytes_per_device"]))
        d = deployment(table, row)
        usable = d.memory_bytes_per_device - d.memory_headroom_bytes
        return (
            f"no deployment fits in memory: the smallest need is {format_bytes(d.memory_bytes_per_device)} per device "
            f"({d.label()}) against {format_bytes(usable)} usable ({100 * limits.reserve_fraction:g}% kept free)"
        )
    failing = []
    for name, limit in (("TTFT", limits.ttft_s), ("TPOT", limits.tpot_s)):
        if limit is None:
            continue
        values = c[f"{name.lower()}_s"][fits]
        row = int(fits[int(np.argmin(values))])
        low = float(values.min())
        if low > limit:
            what = "prefill of one prompt" if name == "TTFT" else "time between tokens"
            failing.append(
                f"{name} fails first: the fastest {what} is {format_seconds(low)} ({deployment(table, row).label()}), "
                f"{over(low, limit)}"
            )
    if failing:
        return "no deployment meets the limits: " + "; and ".join(failing).replace(
            "; and TPOT fails first", "; TPOT fails too"
        )
    ok_ttft = fits[c["ttft_s"][fits] <= (limits.ttft_s or np.inf)]
    row = int(ok_ttft[int(np.argmin(c["tpot_s"][ok_ttft]))])
    low = float(c["tpot_s"][row])
    assert limits.tpot_s is not None
    return (
        f"no deployment meets both limits: among those with TTFT <= {format_seconds(limits.ttft_s or 0)}, "
        f"the fastest TPOT is {format_seconds(low)} ({deployment(table, row).label()}), "
        f"{over(low, limits.tpot_s)}"
    )


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
    from .plan import deployment
    from .plan_why import explain

    c = table.columns
    meets = np.flatnonzero(c["meets"])
    disagg_best = None if disagg is None else disagg.best
    if not len(meets) and disagg_best is None:
        raise PlanInfeasible(diagnose(table, limits, classes))
    ranked: list[int] = []
    if len(meets):
        order = meets[np.argsort(-c["value"][meets], kind="stable")]
        seen = set()
        for r in order:
            group = (int(c["eval"][r]), int(c["devices"][r]))
            if group not in seen:
                seen.add(group)
                ranked.append(int(r))
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
            "tokens_per_s_per_device": c["tokens_per_s_per_device"][fits].tolist(),
            "tokens_per_s_per_user": c["tokens_per_s_per_user"][fits].tolist(),
            "meets": c["meets"][fits].tolist(),
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
