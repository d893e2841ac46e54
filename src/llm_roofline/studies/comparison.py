"""The same workload over several models and devices: one analysis per (model, device) pair.

Each pair gets a heading: the device's name when one model is compared across devices,
the model's when one device runs several models, "model @ device" when both vary.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.analyze import analyze
from ..engine.report import Report
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload


def compare(
    models: Sequence[tuple[str, Model]],
    devices: Sequence[tuple[str, Hardware]],
    workload: Workload,
    layout: Layout | None = None,
) -> list[tuple[str, Report]]:
    """(heading, report) for every (model, device) pair, models outermost."""
    columns = []
    for model_name, model in models:
        for device_name, hardware in devices:
            if len(models) > 1 and len(devices) > 1:
                heading = f"{model_name} @ {device_name}"
            else:
                heading = model_name if len(models) > 1 else device_name
            columns.append((heading, analyze(model, hardware, workload, layout)))
    return columns
