"""The type check every public analysis entry point runs first.

``analyze("llama-3.1-8b", H, W)`` or ``analyze(M, H, None)`` would otherwise fail deep
inside the engine with an ``AttributeError``; this names the parameter instead:
``TypeError: model must be a Model (get_model('llama-3.1-8b') makes one), got 'llama-3.1-8b' (str)``.
"""

from __future__ import annotations

from typing import Any

from .bounds import show
from .hardware import Hardware
from .layout import Layout
from .model import Model
from .workload import Workload

_HINTS = {
    "model": "a Model (llm_roofline.catalog.model_catalog.get_model(name) makes one)",
    "hardware": "a Hardware (llm_roofline.catalog.hardware_catalog.get_hardware(name) makes one)",
    "workload": "a Workload (Workload() is the default workload)",
    "layout": "a Layout or None (None: one device)",
}


def _refuse(name: str, value: Any) -> TypeError:
    return TypeError(f"{name} must be {_HINTS[name]}, got {show(value)} ({type(value).__name__})")


def check_analysis_arguments(model: Any, hardware: Any, workload: Any, layout: Any = None) -> None:
    """Raise TypeError naming the first argument of the wrong type (``None`` is not a Workload)."""
    for name, value, kind in (
        ("model", model, Model),
        ("hardware", hardware, Hardware),
        ("workload", workload, Workload),
    ):
        if not isinstance(value, kind):
            raise _refuse(name, value)
    if layout is not None and not isinstance(layout, Layout):
        raise _refuse("layout", layout)
