"""llm-roofline: roofline analysis of LLM inference.

Is prefill compute-bound or memory-bound, and decode? Why, by how much, and what would
change it. The seed exercise (``classify_prefill_vs_decode``, ``classify_llm_phases``)
keeps its exact textbook answers; ``analyze`` is the operator-level engine.

Names are imported on first use (PEP 562), so the command line starts without loading
the engine it may not need (``llm-roofline --help``, ``llm-roofline models``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "engine.analyze",
    "plan": "studies.plan",
    "sweep": "studies.sweep",
    "Hardware": "inputs.hardware",
    "MLA": "inputs.model",
    "Model": "inputs.model",
    "MoE": "inputs.model",
    "Layout": "inputs.layout",
    "Parallelism": "inputs.layout",
    "Report": "engine.report",
    "Workload": "inputs.workload",
    "classify_llm_phases": "engine.seed",
    "classify_prefill_vs_decode": "engine.seed",
    "critical_seq_len": "engine.seed",
    "decode_intensity_limit": "engine.seed",
    "prefill_intensity_limit": "engine.seed",
}

__all__ = [
    "MLA",
    "Hardware",
    "Layout",
    "MoE",
    "Model",
    "Parallelism",
    "Report",
    "Workload",
    "analyze",
    "classify_llm_phases",
    "classify_prefill_vs_decode",
    "critical_seq_len",
    "decode_intensity_limit",
    "plan",
    "prefill_intensity_limit",
    "sweep",
]

if TYPE_CHECKING:
    from .engine.analyze import analyze
    from .engine.report import Report
    from .engine.seed import (
        classify_llm_phases,
        classify_prefill_vs_decode,
        critical_seq_len,
        decode_intensity_limit,
        prefill_intensity_limit,
    )
    from .inputs.hardware import Hardware
    from .inputs.layout import Layout, Parallelism
    from .inputs.model import MLA, Model, MoE
    from .inputs.workload import Workload
    from .studies.plan import plan
    from .studies.sweep import sweep


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_roofline' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
