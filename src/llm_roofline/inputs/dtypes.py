"""The one table of bytes per element, and the compute dtype a matmul runs in.

Floats, so 4-bit formats are 0.5 bytes. Group-wise quantization scales are not folded
into these numbers: ``weight_bytes_per_element`` adds them explicitly.
"""

from __future__ import annotations

BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,  # stored as fp32; tf32 is a tensor-core compute mode
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "fp4": 0.5,
}

STORAGE_DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4")
COMPUTE_DTYPES: tuple[str, ...] = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4")

# Group-wise scales of sub-byte weights (GPTQ/AWQ-style int4, MXFP4/NVFP4): one scale of
# this many bytes per group of weights. Zero-points of asymmetric schemes are ignored.
DEFAULT_SCALE_BYTES = 2.0
DEFAULT_GROUP_SIZE = 128

ALIASES: dict[str, str] = {
    "float32": "fp32",
    "f32": "fp32",
    "float": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "f16": "fp16",
    "float8": "fp8",
    "e4m3": "fp8",
    "fp8_e4m3": "fp8",
    "i8": "int8",
    "w8": "int8",
    "i4": "int4",
    "w4": "int4",
    "nf4": "int4",
    "mxfp4": "fp4",
    "nvfp4": "fp4",
}


def normalize(field: str, name: str, options: tuple[str, ...] = STORAGE_DTYPES) -> str:
    """Map a user's spelling (``bfloat16``, ``FP8``) to a canonical dtype name."""
    if not isinstance(name, str):
        raise TypeError(f"{field} must be a dtype name, got {name!r}")
    key = name.strip().lower().replace("-", "").replace(" ", "")
    key = ALIASES.get(key, key)
    if key not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}; got {name!r}")
    return key


def bytes_per_element(dtype: str) -> float:
    return BYTES_PER_ELEMENT[dtype]


def weight_bytes_per_element(
    dtype: str, group_size: int = DEFAULT_GROUP_SIZE, scale_bytes: float = DEFAULT_SCALE_BYTES
) -> float:
    """Bytes per weight element including group-wise scales for sub-byte formats.

    int4 with group 128 and fp16 scales: 0.5 + 2/128 = 0.515625 bytes per weight.
    8-bit and wider weights use per-channel (or no) scales, negligible and not counted.
    """
    base = BYTES_PER_ELEMENT[dtype]
    return base + scale_bytes / group_size if base < 1 else base
