"""One device's operators of a pass, compiled: the formulas traced once per model, layout,
stage and roofs, then run as straight-line Python for each configuration.

``stage_operators`` and the pricing of ``Roofs`` are written once, for numbers and
arrays. To analyze one configuration in a few microseconds, this module evaluates them
once on symbols (engine/symbolic.py: the pass's batch, new and cached tokens) and turns
the expression graph into Python source (engine/codegen.py): the operations the formulas
perform, in their order, on the same number types, so the compiled code returns bit for
bit what the formulas return (tests/test_compiled.py checks every preset). What is
compiled, per (model, layout, stage, logits, pass flags and element sizes, roofs), is
what a builder returns for the traced records (``BUILDERS``; request.py adds its own):

- ``priced``: the operator records with their ideal and expected times per instance;
- ``phase``: the pass's ``Phase`` (``phase.build_phase``, rows included) and its memory
  terms (``memory.weight_bytes``, ``memory.live_bytes``);
- ``totals``: (FLOPs, bytes) of the pass (``phase.phase_totals``);
- ``times``: (expected, ideal) seconds of the pass (``phase.phase_times``);
- the request sum's pieces: the step's times, the records the cached tokens change and
  their times, and their expected times weighted over sampled contexts (one loop, what
  does not change hoisted before it).

A pass is compiled for its class: new tokens 1 or at least 2, cached tokens 0 or at
least 1 (branches such as prefill vs decode kernels are decided by these bounds), on the
class's first use after ``COMPILE_AFTER``. A pass outside them (non-integer counts,
arrays), or formulas that branch on a value the bounds leave open
(``symbolic.Untraceable``), are evaluated on numbers by the same builders: slower, never
different. Programs live on their ``Roofs`` (``Roofs.of`` returns one object per device,
dtype and engine), so a new workload on a known model reuses them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..inputs.layout import Layout
from ..inputs.model import Model
from .codegen import BATCH, NEW, PAST, source
from .memory import live_bytes, weight_bytes
from .ops import OpCost, Pass
from .phase import build_phase, phase_times, phase_totals
from .report import Phase
from .sharding import stage_operators
from .symbolic import Sym, tracing
from .timing import Roofs

# One trace at a time (a trace shares its nodes through one table: symbolic.tracing), so
# threads analyzing at once (the web app's) compile correctly, one after the other.
_TRACING = threading.RLock()
_NUMERIC = tuple(i for i, f in enumerate(OpCost._fields) if f not in ("name", "kind", "family"))
_MAX_PROGRAMS = 256  # per Roofs


class Program:
    """The operators of one stage for one pass class (module docstring): traced (their
    numbers are nodes, compiled by ``function``) or, for a pass evaluated on numbers, plain
    records, which the same BUILDERS read."""

    __slots__ = (
        "_derived", "_expected", "_functions", "_ideal", "_nodes", "_varying", "ops", "roofs",
    )  # fmt: skip

    def __init__(
        self,
        ops: Sequence[OpCost],
        roofs: Roofs,
        ideal: Sequence[Any] | None = None,
        expected: Sequence[Any] | None = None,
        nodes: dict[tuple[Any, ...], Sym] | None = None,
    ) -> None:
        self.ops, self.roofs = tuple(ops), roofs
        self._ideal = None if ideal is None else tuple(ideal)
        self._expected = None if expected is None else tuple(expected)
        self._varying: tuple[int, ...] | None = None
        self._functions: dict[str, Callable[..., Any] | None] = {}
        self._derived: dict[str, Any] = {}
        self._nodes = nodes  # the trace's node table: a builder's trace goes on from it

    @property
    def varying(self) -> tuple[int, ...]:
        """The records that depend on the cached tokens (traced records only: on numbers,
        nothing is known to depend on anything)."""
        if self._varying is None:
            self._varying = tuple(k for k, op in enumerate(self.ops) if _deps(op) & PAST)
        return self._varying

    @property
    def ideal(self) -> tuple[Any, ...]:
        """Each record's ideal seconds per instance (priced when first asked)."""
        if self._ideal is None:
            self._ideal = tuple(self.roofs.ideal_s(op) for op in self.ops)
        return self._ideal

    @property
    def expected(self) -> tuple[Any, ...]:
        """Each record's expected seconds per instance (priced when first asked)."""
        if self._expected is None:
            self._expected = tuple(self.roofs.expected_s(op) for op in self.ops)
        return self._expected

    def derived(self, key: str, make: Callable[[Program], Any]) -> Any:
        """``make(self)``, made once per program (a caller's bundle of its functions)."""
        if key not in self._derived:
            self._derived[key] = make(self)
        return self._derived[key]

    def function(
        self, name: str, build: Callable[[Program], Any] | None = None, over_past: bool = False
    ) -> Callable[..., Any] | None:
        """The compiled function ``name`` of (batch, new, past): what ``build`` (default:
        ``BUILDERS[name]``) returns for the traced records, made on first use (``over_past``:
        the weighted sums of its elements over several past, ``_Source.sums_over_past``).
        None when those formulas branch on a run-time value (then evaluate on numbers)."""
        if name in self._functions:
            return self._functions[name]
        fn: Callable[..., Any] | None
        try:
            with _TRACING, tracing(self._nodes):
                fn = source((build or BUILDERS[name])(self), name, over_past)
        except TypeError:  # symbolic.Untraceable
            fn = None
        self._functions[name] = fn
        return fn


def _deps(op: OpCost) -> int:
    bits = 0
    for i in _NUMERIC:
        value = op[i]
        if type(value) is Sym:
            bits |= value.deps
        elif type(value) is tuple:
            for v in value:
                if type(v) is Sym:
                    bits |= v.deps
    return bits


# What each compiled function returns, as the formulas compute it on the traced records.
BUILDERS: dict[str, Callable[[Program], Any]] = {
    "priced": lambda pr: (pr.ops, pr.ideal, pr.expected),
    "phase": lambda pr: (
        build_phase(pr.ops, pr.roofs, prices=(pr.ideal, pr.expected)),
        (weight_bytes(pr.ops), live_bytes(pr.ops)),
    ),
    "totals": lambda pr: phase_totals(pr.ops),
    "times": lambda pr: phase_times(pr.ops, pr.roofs),
}


# ---- tracing and the cache --------------------------------------------------------------


def _pass_class(p: Pass) -> tuple[Any, ...] | None:
    """What a program is specific to besides the model, layout and stage, or None: a pass
    this module does not compile. New tokens 1 or more, cached tokens 0 or more, and the
    pass's element sizes and flags (every field after the three counts)."""
    b, n, c = p[0], p[1], p[2]
    if type(b) is type(n) is type(c) is int and b >= 1 and n >= 1 and c >= 0:
        return (n == 1, c == 0, p[3:])
    return None


def _trace(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, logits: bool
) -> Program | None:
    symbolic = p._replace(
        batch=Sym.symbol("b", 1, BATCH),
        new=1 if p.new == 1 else Sym.symbol("n", 2, NEW),
        past=0 if p.past == 0 else Sym.symbol("c", 1, PAST),
    )
    nodes: dict[tuple[Any, ...], Sym] = {}
    try:
        with _TRACING, tracing(nodes):
            ops = stage_operators(m, layout, symbolic, stage, logits=logits)
            ideal = [roofs.ideal_s(op) for op in ops]
            expected = [roofs.expected_s(op) for op in ops]
    except TypeError:  # symbolic.Untraceable, or a traced value where a number must be
        return None
    return Program(ops, roofs, ideal, expected, nodes)


# A pass class is compiled on its first use after COMPILE_AFTER uses: tracing and
# generating code take a few milliseconds, several times a one-off analysis, so a process
# that analyzes once (one CLI command) never pays them; one that analyzes again and again
# (a benchmark, the web app, a script's loop) compiles within its first few analyses.
COMPILE_AFTER = 16


def program(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, logits: bool = True
) -> Program | None:
    """The compiled operators for this pass's class (traced after COMPILE_AFTER uses);
    None before that, or when the pass or the formulas cannot be compiled (then evaluate
    on numbers)."""
    cls = _pass_class(p)
    if cls is None:
        return None
    key = (id(m), layout, stage, logits, cls)
    programs = roofs.programs
    entry = programs.get(key)
    if entry is None or entry[0] is not m:
        if len(programs) >= _MAX_PROGRAMS:
            programs.clear()
        entry = programs[key] = [m, None, 0]  # the model held: its id stays its own
    found: Program | None = entry[1]
    if found is not None or entry[2] > COMPILE_AFTER:
        return found
    entry[2] += 1
    if entry[2] <= COMPILE_AFTER:
        return None
    found = entry[1] = _trace(m, layout, p, stage, roofs, logits)  # None: never compiled
    return found


# ---- what callers use -------------------------------------------------------------------


def compiled_function(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, name: str, logits: bool = True
) -> Callable[..., Any] | None:
    """``Program.function(name)`` for this pass's class, or None (evaluate on numbers)."""
    pr = program(m, layout, p, stage, roofs, logits)
    return None if pr is None else pr.function(name)


def evaluate(
    name: str, m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, logits: bool = True
) -> Any:
    """What ``BUILDERS[name]`` returns for one device of ``stage`` over pass ``p``: the
    compiled function where there is one, else the same builder on the records."""
    pr = program(m, layout, p, stage, roofs, logits)
    fn = None if pr is None else pr.function(name)
    if fn is not None:
        return fn(p[0], p[1], p[2])
    return BUILDERS[name](Program(stage_operators(m, layout, p, stage, logits=logits), roofs))


def priced_operators(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, *, logits: bool = True
) -> tuple[tuple[OpCost, ...], Sequence[float], Sequence[float]]:
    """(operators, ideal seconds per instance, expected seconds per instance) of one device
    of ``stage``: ``stage_operators`` priced on ``roofs``."""
    priced: tuple[tuple[OpCost, ...], Sequence[float], Sequence[float]]
    priced = evaluate("priced", m, layout, p, stage, roofs, logits)
    return priced


def priced_phase(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, *, logits: bool = True
) -> tuple[Phase, tuple[float, float]]:
    """(the Phase, (weight bytes, live bytes): ``memory.weight_bytes`` and
    ``memory.live_bytes``) of one device of ``stage`` for one pass."""
    phased: tuple[Phase, tuple[float, float]]
    phased = evaluate("phase", m, layout, p, stage, roofs, logits)
    return phased


def stage_totals(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, *, logits: bool = True
) -> tuple[float, float]:
    """``phase_totals`` of one device of ``stage``."""
    totals: tuple[float, float] = evaluate("totals", m, layout, p, stage, roofs, logits)
    return totals


def stage_times(
    m: Model, layout: Layout, p: Pass, stage: int, roofs: Roofs, *, logits: bool = True
) -> tuple[float, float]:
    """``phase_times`` (expected, ideal) of one device of ``stage``."""
    times: tuple[float, float] = evaluate("times", m, layout, p, stage, roofs, logits)
    return times
