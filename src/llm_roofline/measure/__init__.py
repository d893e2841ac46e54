"""Measure a machine: GEMM peaks, STREAM bandwidth, per-operator efficiency sweeps and
framework overheads, written as a hardware profile that ``calibration.py`` reads.

Backends: torch (CPU or CUDA; imported only when a measurement runs) and a numpy
fallback (fp32, CPU). ``llm-roofline measure`` is the command-line front end.
"""

from .profile import MeasureOptions, measure_profile, planned_steps

__all__ = ["MeasureOptions", "measure_profile", "planned_steps"]
