"""The web page: one HTML template that draws report JSON and computes nothing.

``render_html(reports, findings)`` fills the template ``templates/report.html`` (inline CSS and
vanilla JS, no external resources, works from ``file://``) with one JSON document::

    {"reports": [<report/v2 document>, ...], "findings": [[str, ...], ...] | null}

Each report is exactly ``Report.to_dict()``; ``findings``, when given, holds one list of
lines per report. The page's script reads that JSON and only formats and places numbers.

``render_live_page()`` is the same template for ``llm-roofline serve``: no data embedded,
and the controls script ``templates/live.js`` added, which fetches that same document from
the app's API (``POST api/page``) whenever a control changes and hands it to the page's
``show(doc)``. The static page holds no such script: it makes no request at all.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

TEMPLATE = "templates/report.html"
LIVE_SCRIPT = "templates/live.js"
PLACEHOLDER = "__LLM_ROOFLINE_DATA__"
LIVE_PLACEHOLDER = "__LLM_ROOFLINE_LIVE__"


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` escaped.

    The escapes are JSON's own (``\\u003c``), so the text parses back to the same data and
    no ``</script>`` or ``<!--`` in a string can end the block. NaN and infinity, which
    JSON.parse rejects, are errors here rather than a blank page.
    """
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _read(name: str) -> str:
    return files("llm_roofline.render").joinpath(name).read_text(encoding="utf-8")


def template() -> str:
    return _read(TEMPLATE)


def live_script() -> str:
    return _read(LIVE_SCRIPT)


def _fill(data: dict[str, Any], live: str) -> str:
    page = template()
    for mark in (PLACEHOLDER, LIVE_PLACEHOLDER):
        if page.count(mark) != 1:  # pragma: no cover - a broken package
            raise RuntimeError(f"{TEMPLATE}: expected one {mark}")
    return page.replace(PLACEHOLDER, embed_json(data)).replace(LIVE_PLACEHOLDER, live)


def render_html(reports: list[dict[str, Any]], findings: list[list[str]] | None = None) -> str:
    """The page for ``reports`` (``Report.to_dict()`` documents; several: a device switcher)."""
    if not reports:
        raise ValueError("render_html: no report given")
    if findings is not None and len(findings) != len(reports):
        raise ValueError(f"render_html: {len(findings)} findings lists for {len(reports)} reports")
    return _fill({"reports": reports, "findings": findings}, "")


def render_live_page() -> str:
    """The page of ``llm-roofline serve``: the template with its controls script, no data."""
    script = live_script()
    if "</script" in script.lower() or "<!--" in script:  # pragma: no cover - a broken package
        raise RuntimeError(f"{LIVE_SCRIPT}: must not contain '</script' or '<!--'")
    return _fill({"reports": [], "findings": None}, f"<script>\n{script}</script>")
