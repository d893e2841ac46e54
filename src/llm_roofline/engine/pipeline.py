"""Timing one pass on a layout: per-stage devices, micro-batches, pipeline fill and drain.

Each operator of a device is priced on that device's roofs (operators do not overlap;
communication is not overlapped with compute: an upper bound on real engines, which
overlap some of it). From the per-stage times t_s of the first (largest) micro-batch and
the bottleneck device's busy time (all its micro-batches):
- a pass on its own (prefill: TTFT) fills and drains the pipeline:
  Σ_s t_s + (busy − t_bottleneck), i.e. (m + p − 1)·t for p equal stages and m equal
  micro-batches: bubble fraction (p − 1)/(m + p − 1);
- decode in steady state keeps m micro-batches in flight, one step apart: a step of one
  micro-batch recurs every max(busy, Σ_s t_s), i.e. max(m, p)·t (bubble (p − m)/p if m < p).
One device (one stage, one micro-batch): the pass is that device's phase, fill-drain and
steady-state are its expected time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..inputs import xp
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.xp import Number
from .ops import OpCost, Pass
from .phase import build_phase, phase_times, phase_totals
from .report import Phase
from .sharding import micro_batch_sizes, stage_operators
from .timing import Roofs


@dataclass(frozen=True)
class PassTiming:
    """One pass on a layout: the bottleneck device and the pipeline's latencies."""

    phase: Phase  # the bottleneck stage's device, its operators over all micro-batches
    bottleneck_stage: int
    stage_ops: tuple[tuple[OpCost, ...], ...]  # each stage's device, first micro-batch
    stage_phases: tuple[Phase, ...]
    system_flops: float  # executed by all devices of one replica

    @property
    def fill_drain_s(self) -> float:
        """Expected latency of the pass on its own: Σ_s t_s + (busy − t_bottleneck)."""
        fill = sum(ph.expected_time_s for ph in self.stage_phases)
        busy = self.phase.expected_time_s
        return fill + (busy - self.stage_phases[self.bottleneck_stage].expected_time_s)

    @property
    def ideal_fill_drain_s(self) -> float:
        fill = sum(ph.time_s for ph in self.stage_phases)
        return fill + (self.phase.time_s - self.stage_phases[self.bottleneck_stage].time_s)

    @property
    def steady_s(self) -> float:
        """Expected step time with every micro-batch in flight: max(busy, Σ_s t_s)."""
        return max(self.phase.expected_time_s, sum(ph.expected_time_s for ph in self.stage_phases))

    @property
    def ideal_steady_s(self) -> float:
        return max(self.phase.time_s, sum(ph.time_s for ph in self.stage_phases))

    @property
    def comm_bytes(self) -> float:
        return sum(row.comm_bytes for row in self.phase.operators)


def time_pass(
    m: Model, layout: Layout, p: Pass, roofs: Roofs, *, logits: bool = True
) -> PassTiming:
    """Price one pass of ``p.batch`` sequences on the layout (see the module docstring)."""
    sizes = micro_batch_sizes(p.batch, layout.micro_batches)
    first = p if sizes[0][0] == p.batch else replace(p, batch=sizes[0][0])
    stage_ops = tuple(
        stage_operators(m, layout, first, s, logits=logits) for s in range(layout.pipeline)
    )
    phases = tuple(build_phase(ops_s, roofs) for ops_s in stage_ops)
    bottleneck = max(range(layout.pipeline), key=lambda s: phases[s].expected_time_s)
    system = sum(ph.flops for ph in phases) * sizes[0][1]
    if len(sizes) == 1 and sizes[0][1] == 1:
        phase = phases[bottleneck]
    else:
        device: list[OpCost] = []
        for size, n in sizes:
            ops_b = stage_operators(m, layout, replace(p, batch=size), bottleneck, logits=logits)
            device += [op.times(op.instances * n) for op in ops_b]
        phase = build_phase(device, roofs)
    for size, n in sizes[1:]:
        smaller = replace(p, batch=size)
        system += n * sum(
            phase_totals(stage_operators(m, layout, smaller, s, logits=logits))[0]
            for s in range(layout.pipeline)
        )
    return PassTiming(phase, bottleneck, stage_ops, phases, system * layout.stage_devices)


def steady_times(m: Model, layout: Layout, p: Pass, roofs: Roofs) -> tuple[float, float]:
    """(expected, ideal) steady-state step time of a pass, without report rows: the
    bottleneck device's busy time or the sum over stages, whichever is larger. The pass
    may hold arrays (contexts, say): the bottleneck stage is then the one slowest in total."""
    sizes = micro_batch_sizes(p.batch, layout.micro_batches)
    stage = [
        phase_times(stage_operators(m, layout, replace(p, batch=sizes[0][0]), s), roofs)
        for s in range(layout.pipeline)
    ]
    if len(sizes) == 1 and sizes[0][1] == 1 and layout.pipeline == 1:
        return stage[0]
    bottleneck = max(range(layout.pipeline), key=lambda s: float(xp.total(stage[s][0])))
    busy_e: Number = 0.0
    busy_i: Number = 0.0
    for size, n in sizes:
        e, i = phase_times(stage_operators(m, layout, replace(p, batch=size), bottleneck), roofs)
        busy_e, busy_i = busy_e + n * e, busy_i + n * i
    fill_e = sum(s[0] for s in stage)
    fill_i = sum(s[1] for s in stage)
    return xp.maximum(busy_e, fill_e), xp.maximum(busy_i, fill_i)
