"""`plan` results as terminal text (JSON is ``PlanResult.to_json``). Computes nothing."""

from __future__ import annotations

from ..inputs.units import format_bytes, format_seconds
from ..studies.plan_result import Deployment, PlanResult
from .table import grid

HEADERS = [
    "deployment",
    "TTFT",
    "TPOT",
    "tok/s/dev",
    "tok/s/user",
    "mem/dev",
    "headroom",
    "prefill",
    "decode",
]


def _row(d: Deployment, priced: bool) -> list[str]:
    row = [
        d.label(),
        format_seconds(d.ttft_s),
        format_seconds(d.tpot_s),
        f"{d.tokens_per_s_per_device:,.0f}",
        f"{d.tokens_per_s_per_user:,.1f}",
        format_bytes(d.memory_bytes_per_device),
        format_bytes(d.memory_headroom_bytes),
        d.prefill_bound.removesuffix("-bound"),
        d.decode_bound.removesuffix("-bound"),
    ]
    if priced:
        row.append("-" if d.cost_per_million_tokens is None else f"{d.cost_per_million_tokens:.3g}")
    return row


def _grid(deployments: list[Deployment], priced: bool) -> str:
    headers = HEADERS + (["$/Mtok"] if priced else [])
    right = [h not in ("deployment", "prefill", "decode") for h in headers]
    return grid(headers, [_row(d, priced) for d in deployments], right)


def plan_text(result: PlanResult) -> str:
    """The best deployment and why, the runner-ups, the Pareto frontier, disaggregation."""
    sla = result.sla
    limits = (
        ", ".join(
            f"{name} <= {format_seconds(value)}"
            for name, value in (("TTFT", sla["ttft_s"]), ("TPOT", sla["tpot_s"]))
            if value is not None
        )
        or "no latency limits"
    )
    if sla.get("requests_per_s") is not None:
        limits += f", >= {sla['requests_per_s']:g} requests/s"

    requests = "; ".join(
        f"prompt {r['prompt_len']}, output {r['output_len']}"
        + (f" (weight {r['weight']:g})" if len(result.requests) > 1 else "")
        for r in result.requests
    )
    per = "tokens/s per dollar" if result.objective == "dollar" else "tokens/s per device"
    priced = result.objective == "dollar"
    best = result.best
    lines = [
        f"{result.model}: {requests}; {limits}; objective {per}",
        f"searched {result.searched:,} deployments in {result.seconds:.2f} s",
        "",
        f"best ({best.mode}): {best.label()}",
        f"  TTFT {format_seconds(best.ttft_s)}, TPOT {format_seconds(best.tpot_s)}, "
        f"{best.tokens_per_s_per_device:,.0f} tokens/s per device, {best.tokens_per_s_per_user:,.1f} per user, "
        f"{best.requests_per_s:,.3g} requests/s, "
        f"{format_bytes(best.memory_bytes_per_device)} per device ({format_bytes(best.memory_headroom_bytes)} free)",
        f"  why: {best.why}",
    ]
    if result.comparison:
        lines.append(f"  {result.comparison}")
    if result.candidates:
        lines += ["", "best of each layout (aggregated):", _grid(result.candidates, priced)]
        lines += [f"  {i + 1}. {d.why}" for i, d in enumerate(result.candidates[1:], start=1)]
    if result.pareto:
        lines += [
            "",
            "Pareto frontier (tokens/s per device vs per user, memory fits; limits not applied):",
        ]
        lines.append(_grid(result.pareto, priced))
    return "\n".join(lines)
