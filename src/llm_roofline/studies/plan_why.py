"""One plain sentence per shown deployment: why it wins, or what it loses to the best.

The facts come from the search table (what stops a larger batch: memory, the TPOT limit,
or the end of the grid) and from ``analyze()`` of the deployment itself (the share of
the decode step spent in communication, the weights' share of a device's memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..engine.analyze import analyze
from ..engine.ops import COMMUNICATION
from ..inputs.model import Model
from ..inputs.units import format_bytes, format_seconds
from .plan_eval import RequestClass
from .plan_result import Limits, Table, deployment


def _cap(table: Table, row: int, limits: Limits) -> str:
    """What stops the batch from growing: the next batch of the grid, and what it breaks."""
    c = table.columns
    ev = table.evaluated[int(c["eval"][row])]
    b = int(c["batch_index"][row])
    if b + 1 >= len(ev.batch):
        return f"batch {ev.batch[b]} is the largest searched"
    nxt = row + 1  # the table holds each (layout, devices) group's batches in order
    usable = (1 - table.reserve) * ev.hardware.memory_bytes
    if not c["fits"][nxt]:
        return (
            f"batch {ev.batch[b + 1]} would need {format_bytes(float(c['memory_bytes_per_device'][nxt]))} "
            f"of the {format_bytes(usable)} usable per device"
        )
    if limits.tpot_s is not None and c["tpot_s"][nxt] > limits.tpot_s:
        return (
            f"batch {ev.batch[b + 1]} would take {format_seconds(float(c['tpot_s'][nxt]))} between tokens "
            f"(the limit is {format_seconds(limits.tpot_s)}: prefills of more users stall decoding)"
        )
    return f"batch {ev.batch[b + 1]} gives no more tokens/s per device"


def _step_facts(
    m: Model, classes: Sequence[RequestClass], table: Table, row: int
) -> tuple[float, float, str]:
    """(communication share of the decode step, weights' share of usable memory, bound)."""
    c = table.columns
    ev = table.evaluated[int(c["eval"][row])]
    cls = classes[0]
    w = replace(
        ev.workload,
        batch_size=int(ev.batch[int(c["batch_index"][row])]),
        prompt_len=cls.prompt_len,
        context_len=cls.decode_context,
        output_len=cls.output_len,
    )
    report = analyze(m, ev.hardware, w, ev.layout)
    phase = report.decode
    comm = sum(r.expected_time_s for r in phase.operators if r.kind == COMMUNICATION)
    usable = (1 - table.reserve) * ev.hardware.memory_bytes
    return comm / phase.expected_time_s, report.metrics.memory.weight_bytes / usable, phase.bound


def _pct(a: float, b: float) -> float:
    return 100 * abs(a / b - 1)


def explain(
    m: Model, classes: Sequence[RequestClass], table: Table, rows: Sequence[int], limits: Limits
) -> dict[int, str]:
    """A sentence for each of ``rows`` (the first is the best), keyed by row."""
    if not rows:
        return {}
    c = table.columns
    best = rows[0]
    out = {}
    for row in rows:
        comm, weights, bound = _step_facts(m, classes, table, row)
        step = f"decode is {bound}" + (
            f", {100 * comm:.0f}% of each step in communication" if comm >= 0.005 else ""
        )
        memory = f"weights take {100 * weights:.0f}% of each device's usable memory"
        if row == best:
            text = f"highest tokens/s per device under the limits: {_cap(table, row, limits)}; {step}; {memory}"
            if len(rows) > 1:
                ru = deployment(table, rows[1])
                loss = _pct(
                    float(c["tokens_per_s_per_device"][rows[1]]),
                    float(c["tokens_per_s_per_device"][row]),
                )
                text += (
                    f"; the runner-up ({ru.label()}) gives {loss:.0f}% fewer tokens/s per device"
                )
        else:
            mine, top = (
                float(c["tokens_per_s_per_device"][row]),
                float(c["tokens_per_s_per_device"][best]),
            )
            tpot, top_tpot = float(c["tpot_s"][row]), float(c["tpot_s"][best])
            change = "cuts" if tpot < top_tpot else "raises"
            text = (
                f"{_pct(mine, top):.0f}% fewer tokens/s per device than the best; it {change} TPOT "
                f"{_pct(tpot, top_tpot):.0f}%; {_cap(table, row, limits)}; {step}"
            )
        out[row] = text
    return out
