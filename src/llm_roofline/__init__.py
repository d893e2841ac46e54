"""llm-roofline: roofline analysis of LLM inference.

Is prefill compute-bound or memory-bound, and decode? Why, by how much, and what would
change it. The seed exercise (``classify_prefill_vs_decode``, ``classify_llm_phases``)
keeps its exact textbook answers; ``analyze`` is the operator-level engine.
"""

from .analysis import analyze
from .hardware import Hardware
from .model import MLA, Model, MoE
from .report import Report
from .seed import (
    classify_llm_phases,
    classify_prefill_vs_decode,
    critical_seq_len,
    decode_intensity_limit,
    prefill_intensity_limit,
)
from .workload import Workload

__version__ = "0.1.0"

__all__ = [
    "MLA",
    "Hardware",
    "MoE",
    "Model",
    "Report",
    "Workload",
    "analyze",
    "classify_llm_phases",
    "classify_prefill_vs_decode",
    "critical_seq_len",
    "decode_intensity_limit",
    "prefill_intensity_limit",
]
