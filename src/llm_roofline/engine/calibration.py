"""Efficiency tables (``llm-roofline/efficiency-table/v2``): the data of the expected time.

One format for every source of efficiencies: the tables shipped per device generation
(``catalog/data/efficiency/<generation>.json``, fitted by ``measure/fit.py``), the table
``llm-roofline measure`` writes into a measured profile, and the flat fallback of an
uncalibrated device (constant curves, no fixed costs). docs/CALIBRATION.md has the file
format; this module parses it (every error names the field) into a ``Calibration``:

- per compute dtype, per operator kind (matmul; attention in its decode and prefill
  forms; element-wise by family; gather) a ``KernelModel``: a fixed time per instance
  and two efficiency curves, compute (a fraction of peak FLOP/s) and memory (of
  bandwidth), each over the operator's own quantities (``curves.py``);
- collectives per implementation: a latency α over devices and link efficiencies over
  bytes, for the ring and (on switches that reduce in the network) the in-switch
  algorithm;
- engine profiles (``EngineProfile``): how an inference engine's kernels and host
  differ from the table's (scales of the efficiencies, fixed costs per step and per
  request), and the range factors from the cross-validated residuals.

Version 1 tables (CPU profiles measured before v2) are read through ``calibration_v1``.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..inputs.hardware import EFFICIENCY_TABLE_FORMAT
from ..inputs.workload import FRAMEWORK_CACHES
from .curves import Curve

TABLE_FORMAT = EFFICIENCY_TABLE_FORMAT
TABLE_FORMAT_V1 = "llm-roofline/efficiency-table/v1"
STATUSES = ("calibrated", "transferred", "measured", "uncalibrated")
OVERHEAD_MODES = ("sum", "max")
AXES = ("tokens", "weight_bytes", "keys", "flops", "bytes", "intensity", "devices")
# The element-wise kernels ``measure`` times, and every family a table may list.
ELEMENTWISE_FAMILIES = ("norm", "rotary", "act_fn", "residual")
# Families of other architectures' kernels and of the framework operators
# (engine/framework.py): where a table has no entry, the one named here prices them
# (None: a fixed time of 0, i.e. the framework's host time is not in the table).
VARIANT_FAMILIES: dict[str, str | None] = {
    "layernorm": "norm",
    "act_gelu_new": "act_fn",
    "act_gelu_tanh": "act_fn",
    "act_gelu": "act_fn",
    "act_relu": "act_fn",
    "cache_copy": "default",
    "framework_layer": None,
    "framework_step": None,
}
TABLE_FAMILIES = (*ELEMENTWISE_FAMILIES, *VARIANT_FAMILIES, "softmax", "default")
# The element-wise kernels ``measure`` sweeps: the Llama family's and the others' kernels.
MEASURED_FAMILIES = (
    *ELEMENTWISE_FAMILIES,
    "layernorm",
    "act_gelu_new",
    "act_gelu_tanh",
    "act_gelu",
    "act_relu",
)
COLLECTIVE_IMPLEMENTATIONS = ("nccl", "custom")
PHASES = ("prefill", "decode")
ENGINE_NUMBERS = (
    "step_overhead_s",
    "request_overhead_s",
    "compute_scale",
    "memory_scale",
    "quantized_memory_scale",
)


@dataclass(frozen=True, slots=True)
class KernelModel:
    """time = fixed_s + max(FLOPs / (peak·compute), bytes / (bandwidth·memory))."""

    fixed_s: float
    compute: Curve
    memory: Curve


@dataclass(frozen=True, slots=True)
class DtypeModel:
    matmul: KernelModel
    decode_attention: KernelModel
    prefill_attention: KernelModel
    decode_attention_kv8: KernelModel  # with an 8-bit KV cache (its own kernels)
    elementwise: Mapping[str, KernelModel]  # by family; "default" always present
    gather: KernelModel


@dataclass(frozen=True, slots=True)
class CollectiveModel:
    alpha_s: Curve  # latency over devices
    ring: Curve  # fraction of the link bandwidth over bytes each device sends (ring)
    switch: Curve | None  # fraction over (devices, message bytes), in-network reduction


@dataclass(frozen=True, slots=True)
class EngineProfile:
    name: str
    step_overhead_s: float = 0.0  # per forward pass (decode step or prefill pass)
    request_overhead_s: float = 0.0  # per request (scheduling, before the first token)
    compute_scale: float = 1.0  # multiplies the table's compute efficiencies
    memory_scale: float = 1.0  # multiplies the memory efficiencies
    quantized_memory_scale: float = 1.0  # and again for weight-only-quantized matmuls
    compute_cap_flops_per_s: float | None = None  # the engine's kernels never exceed this
    quantized_matmul_dtype: str | None = None  # weight-quantized matmuls run at this peak
    collective: str = "nccl"  # the all-reduce implementation


IDENTITY_ENGINE = EngineProfile("as-measured")


@dataclass(frozen=True)
class Calibration:
    generation: str
    status: str
    note: str
    overhead_mode: str
    dtypes: Mapping[str, DtypeModel]
    aliases: Mapping[str, str] = field(default_factory=dict)
    collectives: Mapping[str, CollectiveModel] = field(default_factory=dict)
    engines: Mapping[str, EngineProfile] = field(default_factory=dict)
    default_engine: str = ""
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def dtype_model(self, dtype: str) -> DtypeModel | None:
        """The entry for a compute dtype, through the table's aliases; None if absent."""
        found = self.dtypes.get(dtype)
        if found is None and dtype in self.aliases:
            found = self.dtypes.get(self.aliases[dtype])
        return found

    def engine(self, name: str | None) -> EngineProfile:
        """The named engine profile; a table without profiles applies none (as measured),
        except to the framework engines (transformers), whose numbers it must carry; a
        measured table prices every other engine as measured."""
        key = name or self.default_engine
        if key in self.engines:
            return self.engines[key]
        if key in FRAMEWORK_CACHES:
            raise ValueError(
                f"engine: this table has no {key!r} profile (re-run `llm-roofline measure` "
                "with transformers installed to measure one)"
            )
        if not self.engines or self.status == "measured":  # measured kernels, as they ran
            return IDENTITY_ENGINE
        if key not in self.engines:
            raise ValueError(f"engine: unknown {key!r}; known: {', '.join(sorted(self.engines))}")
        return self.engines[key]

    def collective(self, implementation: str, eight_bit: bool) -> CollectiveModel | None:
        for key in (
            f"{implementation}-{'8bit' if eight_bit else '16bit'}",
            f"{implementation}-16bit",
        ):
            if key in self.collectives:
                return self.collectives[key]
        return self.collectives.get("nccl-16bit")


def flat_model(compute: float, memory: float) -> DtypeModel:
    """Constant efficiencies, no fixed costs: the uncalibrated expected time."""
    kernel = KernelModel(0.0, Curve.constant(compute), Curve.constant(memory))
    return DtypeModel(kernel, kernel, kernel, kernel, {"default": kernel}, kernel)


def flat_collective(memory: float) -> CollectiveModel:
    return CollectiveModel(Curve.constant(0.0), Curve.constant(memory), None)
