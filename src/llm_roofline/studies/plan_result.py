"""The result of `plan`: deployments, the Pareto frontier, and the diagnosis when nothing
meets the limits. Computes no costs of its own (the table holds them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..inputs.hardware import Hardware
from ..inputs.units import format_bytes, format_seconds
from .plan_eval import Evaluated, RequestClass
from .sweep import cost_per_million_tokens


@dataclass(frozen=True)
class Limits:
    ttft_s: float | None
    tpot_s: float | None
    reserve_fraction: float
    requests_per_s: float | None = None  # the deployment must sustain this request rate


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
    requests_per_s: float  # tokens/s over the mean output length: requests finished per second
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
        data["label"] = self.label()  # the one-line name the text output and the page show
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
    # for the plot: every deployment that fits, as arrays (no per-row Python objects)
    points: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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
    values = per_device[order]  # a row is on the frontier if it beats every row before it
    before = np.concatenate(([-np.inf], np.maximum.accumulate(values)[:-1]))
    return [int(r) for r in order[values > before]]


def over(value: float, limit: float) -> str:
    """How far ``value`` is over ``limit``: '38% over the 10.0 ms limit' or '5.2× the ...'."""
    ratio = value / limit
    if ratio >= 2:
        return f"{ratio:.3g}× the {format_seconds(limit)} limit"
    return f"{100 * (ratio - 1):.0f}% over the {format_seconds(limit)} limit"


def diagnose(table: Table, limits: Limits, classes: Sequence[RequestClass]) -> str:
    """Which limit no deployment meets, first: memory, then TTFT, then TPOT, then both."""
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
    latency_ok = c["fits"] & (c["ttft_s"] <= (limits.ttft_s or np.inf))
    latency_ok &= c["tpot_s"] <= (limits.tpot_s or np.inf)
    if limits.requests_per_s is not None and latency_ok.any():
        rows = np.flatnonzero(latency_ok)
        row = int(rows[int(np.argmax(c["requests_per_s"][rows]))])
        most = float(c["requests_per_s"][row])
        return (
            f"no deployment sustains {limits.requests_per_s:g} requests/s within the other limits: "
            f"the most is {most:.3g} requests/s ({deployment(table, row).label()}); add devices "
            f"or relax TTFT/TPOT"
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


def deployment(table: Table, row: int, why: str = "") -> Deployment:
    """One row of the aggregated table as a Deployment."""
    c = table.columns
    ev = table.evaluated[int(c["eval"][row])]
    b = int(c["batch_index"][row])
    n = int(c["devices"][row])
    per_device = float(c["tokens_per_s_per_device"][row])
    return Deployment(
        mode="aggregated",
        hardware=ev.hardware.id or ev.hardware.name,
        devices=n,
        layout={
            "tensor": ev.layout.tensor,
            "pipeline": ev.layout.pipeline,
            "expert": ev.layout.expert,
            "data": n // ev.devices,
        },
        batch_size=int(ev.batch[b]),
        weight_dtype=ev.workload.weight_dtype,
        kv_dtype=ev.workload.kv_dtype,
        chunk_size=ev.chunk_size,
        ttft_s=float(c["ttft_s"][row]),
        tpot_s=float(c["tpot_s"][row]),
        tokens_per_s_per_device=per_device,
        tokens_per_s_per_user=float(c["tokens_per_s_per_user"][row]),
        tokens_per_s=per_device * n,
        requests_per_s=float(c["requests_per_s"][row]),
        memory_bytes_per_device=float(c["memory_bytes_per_device"][row]),
        memory_headroom_bytes=float(
            (1 - table.reserve) * ev.hardware.memory_bytes - c["memory_bytes_per_device"][row]
        ),
        prefill_bound=ev.prefill_bound,
        decode_bound=str(ev.decode_bound[b]),
        cost_per_million_tokens=table.cost(ev.hardware, per_device),
        why=why,
    )
