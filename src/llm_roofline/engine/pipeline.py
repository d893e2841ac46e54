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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..inputs import xp
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.xp import Number
from .compiled import Program, priced_operators, priced_phase, program, stage_totals
from .memory import live_bytes, weight_bytes
from .ops import OpCost, Pass, stack_passes
from .phase import build_phase, phase_times, phase_totals
from .report import Phase
from .sharding import micro_batch_sizes, micro_batch_split, stage_key, stage_operators
from .timing import Roofs


@dataclass(slots=True)
class PassTiming:
    """One pass on a layout: the bottleneck device and the pipeline's latencies."""

    phase: Phase  # the bottleneck stage's device, its operators over all micro-batches
    bottleneck_stage: int
    stage_phases: tuple[Phase, ...]
    system_flops: float  # executed by all devices of one replica
    # Each stage's device, first micro-batch: (weight bytes, live activation bytes).
    stage_memory: tuple[tuple[float, float], ...]
    # One stage of one micro-batch: the compiled operators of the pass's class, when there
    # are (engine/compiled.py), for a caller pricing more passes of that class.
    program: Program | None = None

    @property
    def _single(self) -> bool:
        """One stage of one micro-batch: each latency below is that phase's own time (the
        formulas give t + (t − t) and max(t, t), exactly t)."""
        return len(self.stage_phases) == 1 and self.phase is self.stage_phases[0]

    @property
    def fill_drain_s(self) -> float:
        """Expected latency of the pass on its own: Σ_s t_s + (busy − t_bottleneck)."""
        if self._single:
            return float(self.phase.expected_time_s)
        stages = [ph.expected_time_s for ph in self.stage_phases]
        return float(fill_drain(stages, self.phase.expected_time_s, stages[self.bottleneck_stage]))

    @property
    def ideal_fill_drain_s(self) -> float:
        if self._single:
            return float(self.phase.time_s)
        stages = [ph.time_s for ph in self.stage_phases]
        return float(fill_drain(stages, self.phase.time_s, stages[self.bottleneck_stage]))

    @property
    def steady_s(self) -> float:
        """Expected step time with every micro-batch in flight: max(busy, Σ_s t_s)."""
        if self._single:
            return float(self.phase.expected_time_s)
        return float(
            steady([ph.expected_time_s for ph in self.stage_phases], self.phase.expected_time_s)
        )

    @property
    def ideal_steady_s(self) -> float:
        if self._single:
            return float(self.phase.time_s)
        return float(steady([ph.time_s for ph in self.stage_phases], self.phase.time_s))

    @property
    def comm_bytes(self) -> float:
        return sum(row.comm_bytes for row in self.phase.operators)


def time_pass(
    m: Model, layout: Layout, p: Pass, roofs: Roofs, *, logits: bool = True
) -> PassTiming:
    """Price one pass of ``p.batch`` sequences on the layout (see the module docstring)."""
    if layout.pipeline == 1 and layout.micro_batches == 1:  # one stage, one micro-batch
        pr = program(m, layout, p, 0, roofs, logits)
        fn = None if pr is None else pr.function("phase")
        if fn is None:
            phase, terms = priced_phase(m, layout, p, 0, roofs, logits=logits)
        else:
            phase, terms = fn(p[0], p[1], p[2])
        system = phase.flops * layout.stage_devices
        return PassTiming(phase, 0, (phase,), system, (terms,), pr)
    sizes = micro_batch_sizes(p.batch, layout.micro_batches)
    first = p if sizes[0][0] == p.batch else p._replace(batch=sizes[0][0])
    priced = [
        priced_phase(m, layout, first, s, roofs, logits=logits) for s in range(layout.pipeline)
    ]
    phases = tuple(phase_s for phase_s, _memory in priced)
    bottleneck = max(range(layout.pipeline), key=lambda s: phases[s].expected_time_s)
    system = sum(ph.flops for ph in phases) * sizes[0][1]
    if len(sizes) == 1 and sizes[0][1] == 1:
        phase = phases[bottleneck]
    else:
        device: list[OpCost] = []
        ideal: list[float] = []
        expected: list[float] = []
        for size, n in sizes:
            ops_b, ideal_b, expected_b = priced_operators(
                m, layout, p._replace(batch=size), bottleneck, roofs, logits=logits
            )
            device += [op.times(op.instances * n) for op in ops_b]
            ideal += ideal_b
            expected += expected_b
        phase = build_phase(
            device, roofs, passes=sum(n for _, n in sizes), prices=(ideal, expected)
        )
    for size, n in sizes[1:]:
        smaller = p._replace(batch=size)
        system += n * sum(
            stage_totals(m, layout, smaller, s, roofs, logits=logits)[0]
            for s in range(layout.pipeline)
        )
    memory = tuple(terms for _phase, terms in priced)
    return PassTiming(phase, bottleneck, phases, system * layout.stage_devices, memory)


def fill_drain(stage_s: Sequence[Number], busy_s: Number, bottleneck_s: Number) -> Number:
    """Latency of a pass on its own: Σ_s t_s + (busy − t_bottleneck) (numbers or arrays)."""
    return sum(stage_s) + (busy_s - bottleneck_s)


def steady(stage_s: Sequence[Number], busy_s: Number) -> Number:
    """Steady-state step with every micro-batch in flight: max(busy, Σ_s t_s)."""
    return xp.maximum(busy_s, sum(stage_s))


class PassTimes(NamedTuple):
    """``time_pass`` without report rows, for one configuration or arrays of them."""

    flops: Number  # the bottleneck device over all its micro-batches (Phase.flops)
    bytes: Number
    time_s: Number  # that device's ideal busy time (Phase.time_s)
    expected_time_s: Number
    fill_drain_s: Number  # PassTiming.fill_drain_s
    ideal_fill_drain_s: Number
    steady_s: Number
    ideal_steady_s: Number
    stage_weight_bytes: tuple[Number, ...]  # each stage's device (memory.weight_bytes)
    stage_live_bytes: tuple[Number, ...]  # each stage's device, first micro-batch

    def part(self, sl: slice, parts: int) -> PassTimes:
        """The elements ``sl`` of every term (pass_times_of's split of a stacked pass)."""
        numbers = [xp.part(getattr(self, f), sl, parts) for f in self._fields[:8]]
        weights = tuple(xp.part(v, sl, parts) for v in self.stage_weight_bytes)
        live = tuple(xp.part(v, sl, parts) for v in self.stage_live_bytes)
        return PassTimes._make([*numbers, weights, live])


def pass_times(
    m: Model, layout: Layout, p: Pass, roofs: Roofs, *, logits: bool = True
) -> PassTimes:
    """The numbers of ``time_pass`` (same operators, same pricing, same pipeline rules) for a
    pass whose batch, new and past may be arrays: the bottleneck stage is chosen per element,
    micro-batch counts may be 0 for some elements."""
    big, small = (
        micro_batch_split(p.batch, layout.micro_batches)
        if layout.micro_batches > 1
        else ((0, 0), (0, 0))
    )
    if layout.micro_batches == 1:  # one micro-batch of B: the split's (B + 1, 0) never occurs
        sizes = [(p, 1)]
    elif xp.is_scalar(p.batch):
        sizes = [(p._replace(batch=b), n) for b, n in (big, small) if n > 0]
    else:
        sizes = [(p._replace(batch=b), n) for b, n in (big, small)]
    # Every size in one array evaluation per distinct stage (identical stages priced once).
    if len(sizes) == 1:
        together, parts = sizes[0][0], [slice(None)]
    else:
        together, parts = stack_passes([q for q, _n in sizes])
    priced: dict[tuple[object, ...], tuple[Number, ...]] = {}
    stages = []  # [stage] -> (expected, ideal, flops, bytes, weights, live) of all sizes
    for s in range(layout.pipeline):
        key = stage_key(m, layout, s)
        if key not in priced:
            ops = stage_operators(m, layout, together, s, logits=logits)
            priced[key] = (*phase_times(ops, roofs), *phase_totals(ops), *_memory_terms(ops))
        stages.append(priced[key])
    per_size = [  # [size][stage] -> that size's part of each term
        [tuple(xp.part(v, sl, len(parts)) for v in stage) for stage in stages] for sl in parts
    ]
    # The first (largest) micro-batch: the split's first part where it occurs.
    first = per_size[0] if len(sizes) == 1 else [
        tuple(xp.where(big[1] > 0, a, b) for a, b in zip(hi, lo, strict=True))
        for hi, lo in zip(per_size[0], per_size[1], strict=True)
    ]  # fmt: skip
    first_e = [stage[0] for stage in first]
    first_i = [stage[1] for stage in first]
    bottleneck = xp.first_argmax(first_e) if layout.pipeline > 1 else 0
    busy = [
        sum(n * xp.pick([stage[k] for stage in size], bottleneck)
            for size, (_q, n) in zip(per_size, sizes, strict=True))
        for k in range(4)
    ]  # fmt: skip
    busy_e, busy_i, flops, bytes_ = busy
    return PassTimes(
        flops=flops,
        bytes=bytes_,
        time_s=busy_i,
        expected_time_s=busy_e,
        fill_drain_s=fill_drain(first_e, busy_e, xp.pick(first_e, bottleneck)),
        ideal_fill_drain_s=fill_drain(first_i, busy_i, xp.pick(first_i, bottleneck)),
        steady_s=steady(first_e, busy_e),
        ideal_steady_s=steady(first_i, busy_i),
        stage_weight_bytes=tuple(stage[4] for stage in first),
        stage_live_bytes=tuple(stage[5] for stage in first),
    )


def pass_times_of(
    m: Model, layout: Layout, passes: Sequence[Pass], roofs: Roofs, *, logits: bool = True
) -> list[PassTimes]:
    """``pass_times`` of several passes in one array evaluation (they must agree in their
    flags; MLA's absorbed form cannot mix passes with and without a cache, so those are
    priced apart)."""
    if m.mla is not None and passes[0].mla_decode == "absorbed":
        return [pass_times(m, layout, q, roofs, logits=logits) for q in passes]
    together, parts = stack_passes(passes)
    t = pass_times(m, layout, together, roofs, logits=logits)
    return [t.part(sl, len(parts)) for sl in parts]


def _memory_terms(ops: Sequence[OpCost]) -> tuple[Number, Number]:
    return weight_bytes(ops), live_bytes(ops)


def steady_times(m: Model, layout: Layout, p: Pass, roofs: Roofs) -> tuple[float, float]:
    """(expected, ideal) steady-state step time of a pass, without report rows: the
    bottleneck device's busy time or the sum over stages, whichever is larger."""
    t = pass_times(m, layout, p, roofs)
    return t.steady_s, t.ideal_steady_s
