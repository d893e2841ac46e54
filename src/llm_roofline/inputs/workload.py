"""What is being run: the ``Workload`` dataclass (batch, lengths, dtypes, attention)."""

from __future__ import annotations

from dataclasses import dataclass

from . import checks, dtypes

ATTENTION_IMPLEMENTATIONS = ("flash", "eager")
LOGITS_MODES = ("last", "all")
MLA_DECODE_FORMS = ("absorbed", "naive")  # see mla.py
# Inference engines with an expected-time profile (catalog/data/efficiency/engines.json).
# "generic" is a well-tuned server engine (the default).
ENGINES = ("generic", "tensorrt-llm", "vllm", "sglang", "llama.cpp", "gpt-fast", "mlx")
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
}


def normalize_engine(field: str, name: object) -> str:
    """A user's spelling of an engine ("TRT-LLM", "llamacpp") -> its profile name."""
    if not isinstance(name, str):
        raise ValueError(f"{field} must be one of {', '.join(ENGINES)}; got {name!r}")
    key = name.strip().lower()
    key = ENGINE_ALIASES.get(key, key)
    if key not in ENGINES:
        raise ValueError(f"{field} must be one of {', '.join(ENGINES)}; got {name!r}")
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
    weight_group_size: int = dtypes.DEFAULT_GROUP_SIZE  # sub-byte weights: one scale per group
    attention: str = "flash"  # flash: scores stay on chip; eager: the score matrix hits memory
    causal: bool = True
    logits: str = "last"  # "last": lm_head on the last position only, as serving engines do
    mla_decode: str = "absorbed"  # MLA models, passes over a cache: "absorbed" | "naive"
    engine: str = "generic"  # whose kernels and host costs the expected time describes

    def __post_init__(self) -> None:
        checks.integer("batch_size", self.batch_size, minimum=1)
        checks.integer("prompt_len", self.prompt_len, minimum=1)
        if self.context_len is not None:
            checks.integer("context_len", self.context_len, minimum=0)
        checks.integer("output_len", self.output_len, minimum=0)
        # Normalize spellings ("bfloat16" -> "bf16") on the frozen instance.
        object.__setattr__(
            self, "weight_dtype", dtypes.normalize("weight_dtype", self.weight_dtype)
        )
        object.__setattr__(
            self,
            "activation_dtype",
            dtypes.normalize(
                "activation_dtype", self.activation_dtype, ("fp32", "bf16", "fp16", "fp8", "int8")
            ),
        )
        object.__setattr__(self, "kv_dtype", dtypes.normalize("kv_dtype", self.kv_dtype))
        checks.integer("weight_group_size", self.weight_group_size, minimum=1)
        checks.choice("attention", self.attention, ATTENTION_IMPLEMENTATIONS)
        checks.boolean("causal", self.causal)
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
