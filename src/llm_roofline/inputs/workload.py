"""What is being run: the ``Workload`` dataclass (batch, lengths, dtypes, attention)."""

from __future__ import annotations

from dataclasses import dataclass

from . import bounds, checks, dtypes

ATTENTION_IMPLEMENTATIONS = ("flash", "eager")
LOGITS_MODES = ("last", "all")
MLA_DECODE_FORMS = ("absorbed", "naive")  # see mla.py
# Activation dtypes: also the compute dtype whose peak the matmuls run at. fp4 is the
# block-scaled FP4 of NVFP4/MXFP4 kernels (Blackwell, MI355X); its block scales (1 byte per
# 16 or 32 values) are not counted in activation bytes, as fp8's per-tensor scales are not.

# Every count of a workload and its plausible range (inputs/bounds.py).
_COUNTS = {
    "batch_size": bounds.BATCH,
    "prompt_len": bounds.Bound(1, bounds.TOKENS.high),
    "context_len": bounds.TOKENS,
    "output_len": bounds.TOKENS,
    "weight_group_size": bounds.Bound(1, bounds.WIDTH.high),
}

# Inference engines with an expected-time profile (catalog/data/efficiency/engines.json).
# "generic" is a well-tuned server engine (the default).
ENGINES = ("generic", "tensorrt-llm", "vllm", "sglang", "llama.cpp", "gpt-fast", "mlx")
# Hugging Face transformers, whose profile only a measured profile carries (``measure``
# with transformers installed), by its KV cache: "dynamic" (DynamicCache, the default:
# every step concatenates the whole cache into a new tensor) or "static" (StaticCache:
# writes the new tokens in place). engine/framework.py prices what the cache implies.
FRAMEWORK_CACHES = {"transformers": "dynamic", "transformers-static": "static"}
KNOWN_ENGINES = (*ENGINES, *FRAMEWORK_CACHES)
ENGINE_ALIASES = {
    "trt-llm": "tensorrt-llm",
    "trtllm": "tensorrt-llm",
    "tensorrtllm": "tensorrt-llm",
    "tensorrt_llm": "tensorrt-llm",
    "llamacpp": "llama.cpp",
    "llama-cpp": "llama.cpp",
    "llama_cpp": "llama.cpp",
    "gptfast": "gpt-fast",
    "gpt_fast": "gpt-fast",
    "hf": "transformers",
    "huggingface": "transformers",
    "transformers-dynamic": "transformers",
    "hf-static": "transformers-static",
}


def normalize_engine(field: str, name: object) -> str:
    """A user's spelling of an engine ("TRT-LLM", "llamacpp") -> its profile name."""
    if not isinstance(name, str):
        raise ValueError(f"{field} must be one of {', '.join(KNOWN_ENGINES)}; got {name!r}")
    key = name.strip().lower()
    key = ENGINE_ALIASES.get(key, key)
    if key not in KNOWN_ENGINES:
        raise ValueError(f"{field} must be one of {', '.join(KNOWN_ENGINES)}; got {name!r}")
    return key


@dataclass(frozen=True)
class Workload:
    batch_size: int = 1
    prompt_len: int = 2048  # tokens processed by prefill, per sequence
    context_len: int | None = None  # tokens in the KV cache at the decode step; None: prompt_len
    output_len: int = 256  # tokens generated per sequence (request-level metrics)
    weight_dtype: str = "bf16"
    activation_dtype: str = "bf16"  # also the dtype whose peak the matmuls run at
    kv_dtype: str = "bf16"
    # Weights sharing one scale (int4/fp4: default 128; int8/fp8: per-channel unless given;
    # block formats such as mxfp4 and q8_0 have their own fixed blocks).
    weight_group_size: int | None = None
    attention: str = "flash"  # flash: scores stay on chip; eager: the score matrix hits memory
    causal: bool = True
    logits: str = "last"  # "last": lm_head on the last position only, as serving engines do
    # Weight-only quantization leaves the embeddings and lm_head in 16 bits (GPTQ, AWQ,
    # llama.cpp); True stores the lm_head in the weight dtype too.
    quantize_head: bool = False
    mla_decode: str = "absorbed"  # MLA models, passes over a cache: "absorbed" | "naive"
    engine: str = "generic"  # whose kernels and host costs the expected time describes

    def __post_init__(self) -> None:
        for name, bound in _COUNTS.items():
            if getattr(self, name) is not None:  # context_len may be None
                object.__setattr__(self, name, bounds.count(name, getattr(self, name), bound))
        # Normalize spellings ("bfloat16" -> "bf16") on the frozen instance.
        object.__setattr__(
            self,
            "weight_dtype",
            dtypes.normalize("weight_dtype", self.weight_dtype, dtypes.WEIGHT_DTYPES),
        )
        object.__setattr__(
            self,
            "activation_dtype",
            dtypes.normalize("activation_dtype", self.activation_dtype, dtypes.ACTIVATION_DTYPES),
        )
        object.__setattr__(self, "kv_dtype", dtypes.normalize("kv_dtype", self.kv_dtype))
        if self.weight_group_size is not None and self.weight_dtype in dtypes.BLOCK_FORMATS:
            raise ValueError(
                f"weight_group_size does not apply to {self.weight_dtype} (its blocks are "
                f"fixed); got {self.weight_group_size!r}"
            )
        checks.choice("attention", self.attention, ATTENTION_IMPLEMENTATIONS)
        checks.boolean("causal", self.causal)
        checks.boolean("quantize_head", self.quantize_head)
        checks.choice("logits", self.logits, LOGITS_MODES)
        checks.choice("mla_decode", self.mla_decode, MLA_DECODE_FORMS)
        object.__setattr__(self, "engine", normalize_engine("engine", self.engine))

    @property
    def decode_context_len(self) -> int:
        """Tokens already cached when the decode step runs (default: the prompt)."""
        return self.prompt_len if self.context_len is None else self.context_len

    @property
    def weight_bytes_per_element(self) -> float:
        """Includes group-wise scales for sub-byte weights (int4 g128: 0.515625)."""
        return dtypes.weight_bytes_per_element(self.weight_dtype, self.weight_group_size)

    @property
    def activation_bytes_per_element(self) -> float:
        return dtypes.bytes_per_element(self.activation_dtype)

    @property
    def kv_bytes_per_element(self) -> float:
        return dtypes.bytes_per_element(self.kv_dtype)
