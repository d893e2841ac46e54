"""Where a model runs: the ``Layout`` of tensor, pipeline, expert and data parallelism.

Conventions (vLLM / Megatron-LM) are in engine/sharding.py and docs/PARALLELISM.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import bounds
from .model import Model


@dataclass(frozen=True, kw_only=True)
class Layout:
    """How a model is laid out on devices: tensor, pipeline, expert and data degrees.

    One device is the layout of ones. ``data`` replicas each run the whole layout on their
    own share of the requests: throughput and cost scale with them, latency does not.
    """

    tensor: int = 1
    pipeline: int = 1
    expert: int = 1
    data: int = 1
    micro_batches: int = 1  # per phase, the batch is cut into this many pipeline micro-batches

    def __post_init__(self) -> None:
        for name in ("tensor", "pipeline", "expert", "data"):
            object.__setattr__(self, name, bounds.count(name, getattr(self, name), bounds.DEGREE))
        micro = bounds.count("micro_batches", self.micro_batches, bounds.BATCH)
        object.__setattr__(self, "micro_batches", micro)
        if self.expert > 1 and self.expert % self.tensor:
            raise ValueError(
                f"expert ({self.expert}) must be 1 or a multiple of tensor ({self.tensor}): "
                "routed experts are split across the devices of a stage"
            )
        # Hashed once: a layout keys the compiled programs, several look-ups an analysis.
        fields = (self.tensor, self.pipeline, self.expert, self.data, self.micro_batches)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:  # the fields' hash (dataclass keeps an explicit __hash__)
        hashed: int = self.__dict__["_hash"]
        return hashed

    @cached_property  # (each of these is read several times an analysis)
    def stage_devices(self) -> int:
        """Devices holding one pipeline stage: t, or e when experts are split wider."""
        return max(self.tensor, self.expert)

    @cached_property
    def attention_replicas(self) -> int:
        """Data-parallel replicas of the t-way attention inside a stage (e/t, or 1)."""
        return self.stage_devices // self.tensor

    @cached_property
    def replica_devices(self) -> int:
        """Devices of one model replica: a stage's devices times the pipeline stages."""
        return self.stage_devices * self.pipeline

    @property
    def devices(self) -> int:
        """Every device of the deployment: replica_devices × data replicas."""
        return self.replica_devices * self.data

    @property
    def is_single_device(self) -> bool:
        return self.replica_devices == 1 and self.micro_batches == 1

    def check(self, m: Model) -> None:
        """Raise ValueError, naming the field, where the model cannot be split this way."""
        t, nq, n_kv = self.tensor, m.num_attention_heads, m.num_key_value_heads
        if nq % t:
            raise ValueError(f"tensor ({t}) must divide num_attention_heads ({nq})")
        if m.mla is None and (n_kv % t if t <= n_kv else t % n_kv):
            raise ValueError(
                f"tensor ({t}) must divide num_key_value_heads ({n_kv}) or be a multiple of it "
                "(the KV heads are then replicated)"
            )
        if self.pipeline > m.num_layers:
            raise ValueError(f"pipeline ({self.pipeline}) exceeds num_layers ({m.num_layers})")
        if self.expert > 1:
            if m.moe is None:
                raise ValueError(f"expert ({self.expert}) > 1 needs a mixture-of-experts model")
            if m.moe.num_experts % self.expert:
                raise ValueError(
                    f"expert ({self.expert}) must divide moe.num_experts ({m.moe.num_experts})"
                )


Parallelism = Layout  # the name of the first version's API
