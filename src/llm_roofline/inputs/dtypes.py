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
ACTIVATION_DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16", "fp8", "int8", "fp4")

# Block formats: fixed blocks of elements sharing one scale, stored at their real size.
# (element bytes, block size, scale bytes):
#   MXFP4 (OCP Microscaling v1.0): fp4 e2m1, 32-element blocks, 8-bit e8m0 scale: 4.25 bits
#   NVFP4 (NVIDIA Blackwell): fp4 e2m1, 16-element blocks, 8-bit e4m3 scale: 4.5 bits (its
#     per-tensor fp32 scale is negligible and not counted)
#   Q8_0, Q4_0 (GGUF, llama.cpp): 32-element blocks, one fp16 scale: 8.5 and 4.5 bits
BLOCK_FORMATS: dict[str, tuple[float, int, float]] = {
    "mxfp4": (0.5, 32, 1.0),
    "nvfp4": (0.5, 16, 1.0),
    "q8_0": (1.0, 32, 2.0),
    "q4_0": (0.5, 32, 2.0),
}
BLOCK_ELEMENTS = {"mxfp4": "fp4", "nvfp4": "fp4", "q8_0": "int8", "q4_0": "int4"}
WEIGHT_DTYPES: tuple[str, ...] = (*STORAGE_DTYPES, *BLOCK_FORMATS)

# Group-wise scales of int4/fp4 weights (GPTQ/AWQ-style): one scale of this many bytes per
# group of weights (default 128). 8-bit weights are per-channel (negligible scales) unless a
# group size is given. Zero-points of asymmetric schemes are ignored.
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
    "mx4": "mxfp4",
    "q80": "q8_0",
    "q40": "q4_0",
}


def normalize(field: str, name: str, options: tuple[str, ...] = STORAGE_DTYPES) -> str:
    """Map a user's spelling (``bfloat16``, ``FP8``) to a canonical dtype name."""
    if not isinstance(name, str):
        raise TypeError(f"{field} must be a dtype name, got {name!r}")
    key = name.strip().lower().replace("-", "").replace(" ", "")
    if key not in options and key.replace("_", "") in ALIASES:
        key = key.replace("_", "")
    if key not in options and key in BLOCK_FORMATS:  # as activations or KV: its element type
        key = BLOCK_ELEMENTS[key]
    key = ALIASES.get(key, key)
    if key not in options:
        raise ValueError(f"{field} must be one of {', '.join(options)}; got {name!r}")
    return key


def bytes_per_element(dtype: str) -> float:
    return BYTES_PER_ELEMENT[dtype]


def weight_bytes_per_element(
    dtype: str, group_size: int | None = None, scale_bytes: float = DEFAULT_SCALE_BYTES
) -> float:
    """Bytes per weight element including the scales of its format.

    Block formats at their real size (MXFP4 0.53125, NVFP4 0.5625, Q8_0 1.0625, Q4_0
    0.5625). int4/fp4 with group g (default 128) and fp16 scales: 0.5 + 2/g (g 128:
    0.515625). int8/fp8: per-channel scales (not counted) unless ``group_size`` is given:
    1 + 2/g. 16- and 32-bit weights have no scales.
    """
    if dtype in BLOCK_FORMATS:
        element, block, scale = BLOCK_FORMATS[dtype]
        return element + scale / block
    base = BYTES_PER_ELEMENT[dtype]
    if base < 1:
        return base + scale_bytes / (DEFAULT_GROUP_SIZE if group_size is None else group_size)
    if base == 1 and group_size is not None:
        return base + scale_bytes / group_size
    return base
