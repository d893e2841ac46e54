"""How long an operator takes: the ideal roofline and the expected time.

``Roofs`` holds one device's roofs for one compute dtype, and the expected-time model of
its efficiency table (``calibration.py``) under one engine profile. Per operator instance:

- ideal = max(FLOPs / peak, bytes / bandwidth, interconnect bytes / link bandwidth): the
  roofline, a lower bound. The interconnect lower bound of an all-reduce is the message
  over the link (M / link) on a switch that reduces in the network (NVLink SHARP), and
  the ring's 2·(n−1)/n·M / link elsewhere; other collectives send ``comm_bytes``.
- expected = fixed + max(FLOPs / (peak·ηc), bytes / (bandwidth·ηm)) (``overhead_mode``
  "max": the larger of fixed and work), ηc and ηm read from the kind's curves at the
  operator's own shape and scaled by the engine profile (never above 1, so expected ≥
  ideal). Collectives: α(devices) + bytes / (link·η(bytes)), with the in-switch model
  on a reducing switch and the ring's elsewhere.

Every formula takes Python numbers or numpy arrays (one code path, ``xp``). Fixed costs
per step and per request, and the range around an expected time, are properties the
engine reports as their own rows (``step_overhead_s``, ``request_overhead_s``,
``range_factors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..inputs import xp
from ..inputs.dtypes import bytes_per_element
from ..inputs.hardware import Hardware
from ..inputs.xp import Number
from . import roofline
from .calibration import (
    IDENTITY_ENGINE,
    Calibration,
    CollectiveModel,
    DtypeModel,
    EngineProfile,
    KernelModel,
    flat_collective,
    flat_model,
)
from .calibration_v1 import read_table
from .ops import ATTENTION, COMMUNICATION, ELEMENTWISE, MATMUL, OpCost

_LARGE_TOKENS = 1 << 30
_PRICED_LIMIT = 4096  # records remembered per Roofs  # a matmul without a shape reads its curve at the largest tokens


@dataclass(frozen=True, slots=True)
class Roofs:
    dtype: str
    peak_flops_per_s: float
    bandwidth_bytes_per_s: float
    interconnect_bytes_per_s: float | None
    compute_efficiency: float  # the hardware's flat fractions (uncalibrated fallback)
    bandwidth_efficiency: float
    in_network_reduction: bool = False
    model: DtypeModel = field(default=flat_model(0.7, 0.7), compare=False)
    all_reduce: CollectiveModel = field(default=flat_collective(0.7), compare=False)
    collective: CollectiveModel = field(default=flat_collective(0.7), compare=False)
    engine: EngineProfile = IDENTITY_ENGINE
    quantized_peak_flops_per_s: float | None = None  # weight-quantized matmuls (engine)
    activation_bytes: float = 2.0
    overhead_sum: bool = True
    calibration_status: str = "uncalibrated"
    calibration_note: str = ""
    ranges: Any = field(default=None, compare=False)  # {phase: (low, high)} or None
    # Non-None when the expected time is not one flat fraction per roof (request.py then
    # samples decode steps instead of its closed form).
    calibration: Calibration | None = field(default=None, compare=False)
    # Expected times of the operator records already priced (one configuration each; an
    # analysis prices the same record in its phases and again in its request sum).
    _priced: dict[OpCost, Number] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # Compiled operators of the passes analyzed on these roofs (engine/compiled.py).
    programs: dict[tuple[Any, ...], list[Any]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _ridge: float = field(default=0.0, init=False, compare=False, repr=False)  # ridge_point

    @classmethod
    def of(
        cls,
        hardware: Hardware,
        activation_dtype: str,
        engine: str | None = None,
    ) -> Roofs:
        """One device's roofs for ``activation_dtype`` under ``engine`` (None: the table's
        default). Raises ValueError naming the field for a bad table or engine. One object
        per (what it reads of the hardware, dtype, engine): what is memoized on it (the
        compiled operators) serves every later analysis on the same device."""
        key = (*_read_of(hardware), activation_dtype, engine)
        hit = _ROOFS.get(key)
        if hit is not None and hit[0] is hardware.efficiency_table:
            return hit[1]
        roofs = cls._of(hardware, activation_dtype, engine)
        if len(_ROOFS) >= 64:
            _ROOFS.clear()
        _ROOFS[key] = (hardware.efficiency_table, roofs)  # the table held: its id stays its own
        return roofs

    @classmethod
    def _of(cls, hardware: Hardware, activation_dtype: str, engine: str | None) -> Roofs:
        dtype = hardware.compute_dtype_for(activation_dtype)
        try:
            table = _parsed(hardware.efficiency_table)
        except ValueError as error:
            origin = f" (generation {hardware.generation})" if hardware.generation else ""
            raise ValueError(f"hardware {hardware.name!r}{origin}: {error}") from None
        flat = flat_model(hardware.compute_efficiency, hardware.bandwidth_efficiency)
        model = table.dtype_model(dtype) if table is not None else None
        profile = table.engine(engine) if table is not None else IDENTITY_ENGINE
        nccl = table.collective("nccl", _eight_bit(dtype)) if table is not None else None
        reduce = table.collective(profile.collective, _eight_bit(dtype)) if table else None
        q_dtype = profile.quantized_matmul_dtype
        status, note = _status(hardware, table, model is not None, profile)
        return cls(
            dtype=dtype,
            peak_flops_per_s=hardware.peak_flops_per_s[dtype],
            bandwidth_bytes_per_s=hardware.bandwidth_bytes_per_s,
            interconnect_bytes_per_s=hardware.interconnect_bytes_per_s,
            compute_efficiency=hardware.compute_efficiency,
            bandwidth_efficiency=hardware.bandwidth_efficiency,
            in_network_reduction=hardware.in_network_reduction,
            model=model if model is not None else flat,
            all_reduce=reduce or flat_collective(hardware.bandwidth_efficiency),
            collective=nccl or flat_collective(hardware.bandwidth_efficiency),
            engine=profile,
            quantized_peak_flops_per_s=hardware.peak_flops_per_s.get(q_dtype) if q_dtype else None,
            activation_bytes=bytes_per_element(dtype),
            overhead_sum=table is None or table.overhead_mode == "sum",
            calibration_status=status,
            calibration_note=note,
            ranges=table.ranges if table is not None and table.ranges else None,
            calibration=table if model is not None else None,
        )

    def __post_init__(self) -> None:
        ridge = float(roofline.ridge_point(self.peak_flops_per_s, self.bandwidth_bytes_per_s))
        object.__setattr__(self, "_ridge", ridge)  # read several times an analysis

    @property
    def ridge_point(self) -> float:
        return self._ridge

    @property
    def step_overhead_s(self) -> float:
        """Fixed host time per forward pass (a decode step or a prefill pass): framework,
        scheduling and launch costs outside the operators, from the engine profile."""
        return self.engine.step_overhead_s

    @property
    def request_overhead_s(self) -> float:
        """Fixed time per request before its first token (scheduling, tokenization, the
        engine's per-request setup), from the engine profile; part of TTFT only."""
        return self.engine.request_overhead_s

    def range_factors(self, phase: str) -> tuple[float, float] | None:
        """(low, high) multipliers of an expected ``phase`` time ("prefill" or "decode"):
        the 10th and 90th percentiles of measured / expected over the cross-validated
        published runs. None when the table has no such residuals (a measured profile)."""
        if phase not in ("prefill", "decode"):
            raise ValueError(f"phase must be 'prefill' or 'decode', got {phase!r}")
        return None if self.ranges is None else self.ranges.get(phase)

    # ---- per operator ----------------------------------------------------------------

    def ideal_s(self, op: OpCost) -> float:
        """Roofline time of one instance (a lower bound). Typed float as OpCost's fields
        are: numpy arrays in the record give an array, element-wise."""
        t = xp.maximum(op.flops / self.flops_roof(op), op.bytes / self.bandwidth_bytes_per_s)
        if op.kind == COMMUNICATION or _nonzero(op.comm_bytes):
            t = xp.maximum(t, self.comm_ideal_s(op))
        return t  # type: ignore[no-any-return]  # a float, or an array for array records

    def flops_roof(self, op: OpCost) -> Number:
        """The peak FLOP/s an operator's ideal time is on (weight-only-quantized matmuls:
        the engine's quantized peak, where it has one)."""
        return self._matmul_peak(op) if op.kind == MATMUL else self.peak_flops_per_s

    def expected_s(self, op: OpCost) -> float:
        """Expected time of one instance (see the module docstring); arrays as ``ideal_s``."""
        priced = self._priced
        try:
            return priced[op]  # type: ignore[no-any-return]  # a float
        except KeyError:
            if len(priced) >= _PRICED_LIMIT:
                priced.clear()
            t = priced[op] = self._expected(op)
            return t  # type: ignore[no-any-return]
        except TypeError:  # an array record (unhashable): priced each time
            return self._expected(op)  # type: ignore[no-any-return]

    def _expected(self, op: OpCost) -> Number:
        kind = op.kind
        if kind == MATMUL:
            return self._matmul_s(op)
        if kind == ATTENTION:
            return self._attention_s(op)
        if kind == COMMUNICATION or _nonzero(op.comm_bytes):
            return self._comm_s(op)
        m = self.model
        if kind != ELEMENTWISE:
            kernel = m.gather
        else:
            kernel = m.elementwise.get(op.family) or m.elementwise["default"]
        return self._kernel_s(kernel, op, self.peak_flops_per_s)

    def bound(self, op: OpCost) -> Number:
        return roofline.bound(
            op.flops,
            op.bytes,
            self.peak_flops_per_s,
            self.bandwidth_bytes_per_s,
            op.comm_bytes,
            self.interconnect_bytes_per_s,
        )

    # ---- kernels ---------------------------------------------------------------------

    def _kernel_s(
        self, k: KernelModel, op: OpCost, peak: Number, memory_scale: Number = 1.0
    ) -> Number:
        """fixed + max(FLOPs / (peak·ηc), bytes / (bandwidth·ηm)), η scaled by the engine
        and held at 1 (the roofline is the floor)."""
        e = self.engine
        sc, sm = e.compute_scale, e.memory_scale * memory_scale
        ec = k.compute.read(op) * sc
        if k.compute.peak * sc > 1.0:
            ec = xp.minimum(ec, 1.0)
        em = k.memory.read(op) * sm
        if type(sm) is not float or k.memory.peak * sm > 1.0:
            em = xp.minimum(em, 1.0)
        rate = peak * ec
        if e.compute_cap_flops_per_s is not None:
            rate = xp.minimum(rate, e.compute_cap_flops_per_s)
        work = xp.maximum(op.flops / rate, op.bytes / (self.bandwidth_bytes_per_s * em))
        return k.fixed_s + work if self.overhead_sum else xp.maximum(k.fixed_s, work)

    def _quantized(self, op: OpCost) -> Any:
        """Weight-only quantization: fewer bytes per weight element than per activation."""
        if len(op.shape) < 3:
            return False
        elements = op.shape[1] * op.shape[2]
        return op.weight_bytes < 0.99 * self.activation_bytes * elements

    def _matmul_peak(self, op: OpCost) -> Number:
        q_peak = self.quantized_peak_flops_per_s
        if q_peak is None:
            return self.peak_flops_per_s
        return xp.where(self._quantized(op), q_peak, self.peak_flops_per_s)

    def _matmul_s(self, op: OpCost) -> Number:
        scale = self.engine.quantized_memory_scale
        memory_scale = 1.0 if scale == 1.0 else xp.where(self._quantized(op), scale, 1.0)
        return self._kernel_s(self.model.matmul, op, self._matmul_peak(op), memory_scale)

    def _attention_s(self, op: OpCost) -> Number:
        """The decode kernel for one query per sequence (the 8-bit-cache one over a cache
        of at most one byte per element), the prefill kernel otherwise."""
        shape = op.shape
        queries = shape[0] if shape else 1
        kv_element = shape[5] if len(shape) > 5 else 2.0
        peak, m = self.peak_flops_per_s, self.model
        kv8 = m.decode_attention_kv8
        if xp.is_scalar(queries, kv_element):
            if queries > 1:
                return self._kernel_s(m.prefill_attention, op, peak)
            return self._kernel_s(kv8 if kv_element <= 1 else m.decode_attention, op, peak)
        decode = self._kernel_s(m.decode_attention, op, peak)
        if kv8 is not m.decode_attention:
            decode = xp.where(kv_element <= 1, self._kernel_s(kv8, op, peak), decode)
        return xp.where(queries <= 1, decode, self._kernel_s(m.prefill_attention, op, peak))

    # ---- collectives -----------------------------------------------------------------

    def _link(self) -> float:
        link = self.interconnect_bytes_per_s
        if not link:
            raise ValueError("interconnect_bytes_per_s is needed for communication operators")
        return link

    def comm_ideal_s(self, op: OpCost) -> Number:
        link = self._link()
        if op.family == "all_reduce" and self.in_network_reduction and len(op.shape) >= 2:
            return op.shape[1] / link  # each device sends its message once, gets it back reduced
        return op.comm_bytes / link

    def _comm_s(self, op: OpCost) -> Number:
        """α(n) + bytes / (link·η): on a reducing switch the in-switch model (fitted on such a
        switch, whatever algorithm the library picked), elsewhere the ring."""
        link, sent = self._link(), op.comm_bytes
        devices = op.shape[0] if op.shape else 2
        model = self.all_reduce if op.family == "all_reduce" else self.collective
        alpha = model.alpha_s.at(devices)
        if op.family == "all_reduce" and self.in_network_reduction and model.switch is not None:
            message = xp.maximum(op.shape[1], 1.0)
            t = alpha + message / (link * model.switch.at(devices, message))
        else:
            t = alpha + sent / (link * model.ring.at(xp.maximum(sent, 1.0)))
        return xp.where(_positive(sent), t, 0.0)


# ---- helpers ------------------------------------------------------------------------------


def _nonzero(x: Number) -> bool:
    if xp.is_scalar(x):
        return bool(x)
    return bool(x.any())


def _positive(x: Number) -> Any:
    return x > 0 if not xp.is_scalar(x) else bool(x > 0)


def _eight_bit(dtype: str) -> bool:
    return dtype in ("fp8", "int8", "fp4")


def _status(
    hw: Hardware, table: Calibration | None, has_dtype: bool, engine: EngineProfile
) -> tuple[str, str]:
    flat = f"flat {hw.compute_efficiency:.2f} compute / {hw.bandwidth_efficiency:.2f} bandwidth"
    if table is None or not has_dtype:
        why = (
            ""
            if table is None
            else f" (the {table.generation or 'measured'} table has no entry for this dtype)"
        )
        return "uncalibrated", f"expected time uncalibrated: {flat}{why}"
    if table.status == "uncalibrated":
        return "uncalibrated", table.note or f"expected time uncalibrated: {flat}"
    suffix = f"; engine {engine.name}" if table.engines else ""
    return table.status, f"{table.note}{suffix}"


_CACHE: dict[int, tuple[dict[str, Any], Calibration]] = {}
_ROOFS: dict[tuple[Any, ...], tuple[Any, Roofs]] = {}


def _read_of(hw: Hardware) -> tuple[Any, ...]:
    """Every field of a device that ``Roofs.of`` reads (its table by identity: parsed once)."""
    return (
        hw.name, hw.generation, tuple(hw.peak_flops_per_s.items()), hw.bandwidth_bytes_per_s,
        hw.interconnect_bytes_per_s, hw.compute_efficiency, hw.bandwidth_efficiency,
        hw.in_network_reduction, id(hw.efficiency_table),
    )  # fmt: skip


def _parsed(table: dict[str, Any] | None) -> Calibration | None:
    """The parsed table, parsed once per table object (a small cache)."""
    if table is None:
        return None
    hit = _CACHE.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    parsed = read_table(table)
    if len(_CACHE) >= 32:
        _CACHE.clear()
    _CACHE[id(table)] = (table, parsed)  # holding the table keeps its id from being reused
    return parsed
