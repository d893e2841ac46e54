"""A decoder-only transformer's shape: the ``Model`` dataclass and its derived sizes.

Conventions: parameter counts are element counts of every stored tensor (weights, biases,
norm scales, learned positions), matching ``sum(p.numel())`` of the Hugging Face model.
Tied embeddings count once. Per-layer formulas carry their shapes.

Positions: a model has exactly one of rotary embeddings (the default), a learned absolute
position table (``position_embeddings`` rows: GPT-2, OPT) or ALiBi (``alibi``: MPT), whose
per-head linear bias is added to the scores inside the attention kernel and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import bounds, checks, xp

NORM_KINDS = ("rmsnorm", "layernorm")


def _from_zero(bound: bounds.Bound) -> bounds.Bound:
    return bounds.Bound(0, bound.high)


def _from_one(bound: bounds.Bound) -> bounds.Bound:
    return bounds.Bound(1, bound.high)


def _counts(instance: object, prefix: str, table: dict[str, bounds.Bound]) -> None:
    """Check each named count against its bound and store it back as an ``int``."""
    for name, bound in table.items():
        value = bounds.count(prefix + name, getattr(instance, name), bound)
        object.__setattr__(instance, name, value)


_MODEL_COUNTS = {
    "vocab_size": bounds.VOCABULARY,
    "hidden_size": bounds.WIDTH,
    "num_layers": bounds.LAYERS,
    "num_attention_heads": bounds.HEADS,
    "num_key_value_heads": bounds.HEADS,
    "head_dim": bounds.WIDTH,
    "intermediate_size": bounds.WIDTH,
    "norms_per_layer": bounds.NORMS_PER_LAYER,
    "position_embeddings": bounds.TOKENS,
}


@dataclass(frozen=True)
class MoE:
    """Routed mixture-of-experts MLP (Mixtral, Qwen-MoE, DeepSeek, gpt-oss)."""

    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    num_shared_experts: int = 0
    shared_expert_intermediate_size: int = 0  # of each shared expert
    first_dense_layers: int = 0  # DeepSeek's first_k_dense_replace: leading dense-MLP layers
    router_bias: bool = False  # gpt-oss: Linear(d, E) with bias
    expert_bias: bool = False  # gpt-oss: biases on gate/up and down of every expert
    router_score_bias: bool = False  # DeepSeek-V3: e_score_correction_bias, E values/layer
    shared_expert_gate: bool = False  # Qwen2-MoE: Linear(d, 1) gating the shared expert

    def __post_init__(self) -> None:
        _counts(
            self,
            "moe.",
            {
                "num_experts": bounds.EXPERTS,
                "experts_per_token": bounds.EXPERTS,
                "expert_intermediate_size": bounds.WIDTH,
                "num_shared_experts": _from_zero(bounds.EXPERTS),
                "shared_expert_intermediate_size": _from_zero(bounds.WIDTH),
                "first_dense_layers": _from_zero(bounds.LAYERS),
            },
        )
        if self.experts_per_token > self.num_experts:
            raise ValueError(
                f"moe.experts_per_token ({self.experts_per_token}) must not exceed "
                f"moe.num_experts ({self.num_experts})"
            )
        if self.num_shared_experts and not self.shared_expert_intermediate_size:
            raise ValueError("moe.shared_expert_intermediate_size must be > 0 with shared experts")
        for name in ("router_bias", "expert_bias", "router_score_bias", "shared_expert_gate"):
            checks.boolean(f"moe.{name}", getattr(self, name))


@dataclass(frozen=True)
class MLA:
    """Multi-head latent attention (DeepSeek-V2/V3): a compressed, shared KV latent."""

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None  # None: a plain q_proj (DeepSeek-V2-Lite)

    def __post_init__(self) -> None:
        names = ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
        _counts(self, "mla.", dict.fromkeys(names, bounds.WIDTH))
        if self.q_lora_rank is not None:
            _counts(self, "mla.", {"q_lora_rank": bounds.WIDTH})

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    @property
    def cache_elements_per_token(self) -> int:
        """Per layer: the latent c_kv (kv_lora_rank) plus the shared rope key (qk_rope_head_dim).

        DeepSeek-V3: 512 + 64 = 576 values per token per layer.
        """
        return self.kv_lora_rank + self.qk_rope_head_dim


@dataclass(frozen=True)
class LayerGroup:
    """Layers with identical cost: how many, whether their MLP is routed, their window."""

    count: int
    moe: bool
    window: int | None


_MODEL_FLAGS = (
    "gated_mlp", "parallel_attention", "qkv_bias", "o_bias", "mlp_bias", "qk_norm",
    "attention_sinks", "tie_word_embeddings", "lm_head_bias", "layernorm_bias", "alibi",
)  # fmt: skip  # the boolean fields of Model


@dataclass(frozen=True)
class Model:
    name: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    gated_mlp: bool = True  # SwiGLU/GeGLU: gate, up, down; plain: up (fc1), down (fc2)
    activation: str = ""  # config hidden_act ("silu", "gelu_new", "relu"); "" when not given
    norm: str = "rmsnorm"  # rmsnorm: a scale of d; layernorm: scale and bias, 2·d
    layernorm_bias: bool = True  # False: LayerNorm with a scale only, d (MPT's no_bias)
    norms_per_layer: int = 2  # Gemma-2/3: 4 (pre and post norms); Falcon-7B, Phi-2: 1
    parallel_attention: bool = False  # attention and MLP read the same input (Phi-2, Falcon)
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3, Gemma-3): 2·head_dim
    attention_sinks: bool = False  # gpt-oss: one learned sink logit per query head
    tie_word_embeddings: bool = False
    lm_head_bias: bool = False
    position_embeddings: int = 0  # rows of a learned absolute position table (GPT-2, OPT)
    alibi: bool = False  # ALiBi (MPT): a bias per (query, key) pair and head; no RoPE, no table
    max_position_embeddings: int | None = None
    sliding_window: int | None = None
    sliding_window_layers: tuple[int, ...] = ()
    moe: MoE | None = None
    mla: MLA | None = None
    source: str = ""

    def __post_init__(self) -> None:
        checks.text("name", self.name)
        checks.string("source", self.source)
        checks.string("activation", self.activation)
        _counts(self, "", _MODEL_COUNTS)
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_key_value_heads ({self.num_key_value_heads}) must divide "
                f"num_attention_heads ({self.num_attention_heads})"
            )
        checks.choice("norm", self.norm, NORM_KINDS)
        for name in _MODEL_FLAGS:
            checks.boolean(name, getattr(self, name))
        self._check_norm_and_positions()
        for name in ("max_position_embeddings", "sliding_window"):
            if getattr(self, name) is not None:
                _counts(self, "", {name: _from_one(bounds.TOKENS)})
        self._check_windows()
        checks.instance("moe", self.moe, (MoE, type(None)), "a MoE or None")
        checks.instance("mla", self.mla, (MLA, type(None)), "an MLA or None")
        if self.moe is not None and self.moe.first_dense_layers > self.num_layers:
            raise ValueError(
                f"moe.first_dense_layers ({self.moe.first_dense_layers}) exceeds "
                f"num_layers ({self.num_layers})"
            )

    def _check_norm_and_positions(self) -> None:
        if not self.layernorm_bias and self.norm != "layernorm":
            raise ValueError(
                "layernorm_bias=False needs norm='layernorm' (RMSNorm has no bias), "
                f"got norm={self.norm!r}"
            )
        if self.alibi and self.position_embeddings:
            raise ValueError(
                "alibi models have no learned position table: position_embeddings must be 0 "
                f"with alibi=True, got {self.position_embeddings}"
            )
        if self.alibi and self.mla is not None:
            raise ValueError("alibi=True with mla: MLA attention carries rotary keys, not ALiBi")

    def _check_windows(self) -> None:
        """``sliding_window_layers``: distinct layer indices, normalized to a sorted tuple."""
        layers = self.sliding_window_layers
        if not isinstance(layers, (tuple, list, range)):
            raise TypeError(
                "sliding_window_layers must be a tuple of layer indices, got "
                f"{bounds.show(layers)} ({type(layers).__name__})"
            )
        if layers and self.sliding_window is None:
            raise ValueError("sliding_window_layers is set but sliding_window is not")
        if len(layers) > self.num_layers:
            raise ValueError(
                f"sliding_window_layers has {len(layers):,} entries, but the model has "
                f"{self.num_layers} layers"
            )
        index = bounds.Bound(0, bounds.LAYERS.high)
        indices = {bounds.count("sliding_window_layers[]", i, index) for i in layers}
        for i in sorted(indices):
            if i >= self.num_layers:
                raise ValueError(
                    f"sliding_window_layers contains {i}, but the model has "
                    f"{self.num_layers} layers"
                )
        object.__setattr__(self, "sliding_window_layers", tuple(sorted(indices)))

    # ---- layer structure -------------------------------------------------------------
    def layer_is_moe(self, layer: int) -> bool:
        return self.moe is not None and layer >= self.moe.first_dense_layers

    def layer_window(self, layer: int) -> int | None:
        """The attention window of a layer, or None for full attention."""
        return self.sliding_window if layer in self._sliding_layers else None

    @cached_property
    def _sliding_layers(self) -> frozenset[int]:
        return frozenset(self.sliding_window_layers)

    def layer_groups_between(self, start: int, stop: int) -> tuple[LayerGroup, ...]:
        """Layers [start, stop) grouped by identical cost (MoE or dense MLP, window), in
        first-appearance order. O(stop − start) set look-ups."""
        counts: dict[tuple[bool, int | None], int] = {}
        sliding, first_moe = self._sliding_layers, self._first_moe_layer
        for layer in range(start, stop):
            key = (layer >= first_moe, self.sliding_window if layer in sliding else None)
            counts[key] = counts.get(key, 0) + 1
        return tuple(LayerGroup(n, moe, window) for (moe, window), n in counts.items())

    @property
    def _first_moe_layer(self) -> int:
        return self.num_layers if self.moe is None else self.moe.first_dense_layers

    @cached_property
    def layer_groups(self) -> tuple[LayerGroup, ...]:
        """Layers grouped by identical cost, in first-appearance order (computed once)."""
        return self.layer_groups_between(0, self.num_layers)

    @cached_property
    def windows(self) -> tuple[int, ...]:  # its layers' distinct sliding windows, ascending
        return tuple(sorted({g.window for g in self.layer_groups if g.window is not None}))

    @property
    def num_moe_layers(self) -> int:
        return self.num_layers - self._first_moe_layer

    @property
    def q_dim(self) -> int:
        """Width of the query projection, num_attention_heads · head_dim (may differ from d)."""
        return self.num_attention_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of each of K and V: num_key_value_heads · head_dim (GQA/MQA)."""
        return self.num_key_value_heads * self.head_dim

    @property
    def rotary(self) -> bool:
        """Whether q and k get rotary embeddings: not with learned positions, not with ALiBi."""
        return not self.position_embeddings and not self.alibi

    # ---- parameter counts ------------------------------------------------------------
    @property
    def norm_params(self) -> int:
        """One norm over d: RMSNorm a scale (d), LayerNorm a scale and a bias (2·d; d without)."""
        with_bias = self.norm == "layernorm" and self.layernorm_bias
        return self.hidden_size * (2 if with_bias else 1)

    @property
    def attention_params_per_layer(self) -> int:
        d, nq = self.hidden_size, self.num_attention_heads
        if self.mla is not None:
            m = self.mla
            if m.q_lora_rank is None:
                q = d * nq * m.qk_head_dim  # q_proj (d, nq·(nope+rope))
            else:  # q_a_proj (d, r_q), q_a_layernorm (r_q), q_b_proj (r_q, nq·(nope+rope))
                q = d * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * nq * m.qk_head_dim
            kv_a = d * (m.kv_lora_rank + m.qk_rope_head_dim)  # kv_a_proj_with_mqa
            kv_b = m.kv_lora_rank * nq * (m.qk_nope_head_dim + m.v_head_dim) + m.kv_lora_rank
            o = nq * m.v_head_dim * d  # o_proj (nq·v_head_dim, d)
            return q + kv_a + kv_b + o
        q = d * self.q_dim + (self.q_dim if self.qkv_bias else 0)
        kv = 2 * (d * self.kv_dim + (self.kv_dim if self.qkv_bias else 0))
        o = self.q_dim * d + (d if self.o_bias else 0)
        qk_norm = 2 * self.head_dim if self.qk_norm else 0
        sinks = nq if self.attention_sinks else 0
        return q + kv + o + qk_norm + sinks

    def mlp_params(self, intermediate_size: int, bias: bool) -> int:
        """One dense MLP: gated 3·d·I (+ 2·I + d biases), plain 2·d·I (+ I + d biases)."""
        d, n_in = self.hidden_size, (2 if self.gated_mlp else 1)
        weights = (n_in + 1) * d * intermediate_size
        return weights + ((n_in * intermediate_size + d) if bias else 0)

    @property
    def dense_mlp_params(self) -> int:
        return self.mlp_params(self.intermediate_size, self.mlp_bias)

    @property
    def expert_params(self) -> int:
        assert self.moe is not None
        return self.mlp_params(self.moe.expert_intermediate_size, self.moe.expert_bias)

    @property
    def moe_router_params(self) -> int:
        assert self.moe is not None
        e, d = self.moe.num_experts, self.hidden_size
        return d * e + (e if self.moe.router_bias else 0) + (e if self.moe.router_score_bias else 0)

    @property
    def shared_expert_params(self) -> int:
        assert self.moe is not None
        m = self.moe
        each = (
            self.mlp_params(m.shared_expert_intermediate_size, m.expert_bias)
            if m.num_shared_experts
            else 0
        )
        return m.num_shared_experts * each + (self.hidden_size if m.shared_expert_gate else 0)

    def moe_params_per_layer(self, experts: float) -> float:
        """Router + ``experts`` routed experts + the shared experts, for one MoE layer."""
        return self.moe_router_params + experts * self.expert_params + self.shared_expert_params

    @property
    def norm_params_per_layer(self) -> int:
        return self.norms_per_layer * self.norm_params

    @property
    def embedding_params(self) -> int:
        """Token table V·d plus a learned position table (GPT-2: 1024·d; OPT: 2050·d)."""
        return (self.vocab_size + self.position_embeddings) * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """Zero when tied (the embedding table is reused and counted once)."""
        if self.tie_word_embeddings:
            return 0
        return self.vocab_size * self.hidden_size + (self.vocab_size if self.lm_head_bias else 0)

    def _parameters(self, experts: float) -> int:
        dense_layers = self.num_layers - self.num_moe_layers
        per_layer = self.attention_params_per_layer + self.norm_params_per_layer
        total: float = self.num_layers * per_layer + dense_layers * self.dense_mlp_params
        if self.moe is not None:
            total += self.num_moe_layers * self.moe_params_per_layer(experts)
        return int(total + self.embedding_params + self.lm_head_params + self.norm_params)

    @property
    def parameter_count(self) -> int:
        """Every stored parameter (the final norm included), tied embeddings once."""
        return self._parameters(self.moe.num_experts if self.moe else 0)

    @property
    def active_parameter_count(self) -> int:
        """Parameters one token uses: routed experts counted at top-k (embeddings included)."""
        return self._parameters(self.moe.experts_per_token if self.moe else 0)

    # ---- KV cache ----------------------------------------------------------------------
    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """K and V of one token in one layer: 2·n_kv·head_dim (MLA: kv_lora_rank + rope dim)."""
        if self.mla is not None:
            return self.mla.cache_elements_per_token
        return 2 * self.kv_dim

    def kv_bytes_per_token(self, kv_dtype_bytes: float) -> float:
        """Cache bytes one token adds over all layers (ignoring windows): L·2·n_kv·hd·b."""
        return self.num_layers * self.kv_elements_per_token_per_layer * kv_dtype_bytes

    def kv_cache_bytes(self, tokens: int, kv_dtype_bytes: float) -> float:
        """Cache bytes for one sequence of ``tokens``: sliding layers keep only their window."""
        per_layer = self.kv_elements_per_token_per_layer * kv_dtype_bytes
        total = 0.0
        for group in self.layer_groups:
            kept = tokens if group.window is None else xp.minimum(tokens, group.window)
            total += group.count * kept * per_layer
        return total
