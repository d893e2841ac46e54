"""Write tests/golden/single_device.json: every preset's single-device analysis.

Run from the repository root: ``.venv/bin/python tests/golden/make_golden.py``. The file
pins the engine's numbers at t = p = e = 1 (tests/test_golden.py compares against it); it
is regenerated only when a counting convention changes, and each such change is listed in
the commit that regenerates it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from llm_roofline import Workload, analyze
from llm_roofline.catalog.hardware_catalog import get_hardware
from llm_roofline.catalog.model_catalog import get_model, list_models

OUT = Path(__file__).with_name("single_device.json")
HARDWARE = "h100-sxm"
WORKLOADS: dict[str, dict[str, Any]] = {
    "default": {},
    "batch16-int8-fp8kv": {
        "batch_size": 16,
        "prompt_len": 512,
        "context_len": 4096,
        "output_len": 128,
        "weight_dtype": "int8",
        "kv_dtype": "fp8",
    },
    "eager-int4": {
        "batch_size": 4,
        "prompt_len": 1000,
        "output_len": 64,
        "attention": "eager",
        "weight_dtype": "int4",
    },
}


def view(report: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a report (operators as a name -> fields map)."""
    phases = {}
    for name, phase in report["phases"].items():
        rows = {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in phase["operators"]}
        phases[name] = {k: v for k, v in phase.items() if k != "operators"} | {"operators": rows}
    metrics = dict(report["metrics"])
    for key in ("critical_batch_size_reason", "critical_prompt_len_reason"):
        metrics.pop(key)
    return {"phases": phases, "metrics": metrics, "ridge_point": report["ridge_point"]}


def golden() -> dict[str, Any]:
    hw = get_hardware(HARDWARE)
    out: dict[str, Any] = {}
    for entry in list_models():
        model = get_model(entry.repo_id)
        for label, fields in WORKLOADS.items():
            out[f"{entry.repo_id}/{label}"] = view(analyze(model, hw, Workload(**fields)).to_dict())
    return out


def main() -> int:
    OUT.write_text(json.dumps(golden(), indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
