"""One group of a sweep, evaluated as arrays: the engine's own formulas, many rows at once.

A group is everything that must be one value for one array evaluation: the model, the
hardware, the layout, the dtypes and the rest of the workload's scalar fields. Inside it
the batch, prompt, context and output axes vary; the group's rows are their cartesian
product in that order (row-major). Nothing here prices an operator or sums a pipeline:
``pass_times`` (engine/pipeline.py) runs ``stage_operators`` and ``Roofs`` over array
passes, ``stage_kv_cache_bytes`` and ``stage_total_bytes`` (engine/memory.py) size the
memory, ``chunk_pass``/``priced_chunks``/``chunked_sum`` (studies/scheduling.py) price a
chunked prefill, ``critical_batch_size`` (engine/solvers.py) solves the critical batch.

What is reused: a prefill depends on (batch, prompt) only and a decode step on (batch,
context), so each is evaluated once per distinct pair ("key") and gathered into the rows;
a grid of 10 batches × 100 prompts × 10 contexts × 100 outputs evaluates 1,000 prefills
and 100 decode steps for its 10^6 rows. Keys are evaluated KEY_CHUNK at a time and rows
ROW_CHUNK at a time, so memory stays bounded whatever the sweep's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..engine import roofline
from ..engine.analyze import check_layout, roofs_for
from ..engine.memory import stage_total_bytes
from ..engine.ops import MATMUL, OpCost, Pass, decode_pass, prefill_pass
from ..engine.pipeline import pass_times
from ..engine.sharding import stage_kv_cache_bytes
from ..engine.solvers import critical_batch_size
from ..engine.timing import Roofs
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.model import Model
from ..inputs.workload import Workload
from .scheduling import chunk_pass, chunked_sum, priced_chunks


def _bound(keys: Arrays, roofs: Roofs) -> np.ndarray:
    """The phase's binding roof per key as codes into BOUNDS: roofline.bound of a phase
    (no interconnect term) is compute-bound where roofline.compute_bound holds. Gathering
    one-byte codes, then names from a two-entry table, is ten times faster than strings."""
    ridge = roofline.ridge_point(roofs.peak_flops_per_s, roofs.bandwidth_bytes_per_s)
    return np.asarray(roofline.compute_bound(keys["flops"], keys["bytes"], ridge)).view(np.uint8)


BOUNDS = np.array([roofline.MEMORY_BOUND, roofline.COMPUTE_BOUND], dtype=object)


# Arrays of 2^16 float64 (512 KiB) stay in cache: larger ones run at memory speed.
KEY_CHUNK = 1 << 16  # passes evaluated per array
ROW_CHUNK = 1 << 16  # rows assembled at once
GRID_CACHE = 1 << 18  # a group's prefill/decode grids up to this size are evaluated once

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Group:
    model: Model
    hardware: Hardware
    workload: Workload  # dtypes, attention, engine, ...; its lengths and batch are not used
    layout: Layout


def group_error(g: Group) -> str | None:
    """Why the group cannot run (layout, interconnect, compute dtype), or None."""
    try:
        check_layout(g.model, g.hardware, g.layout)
        roofs = roofs_for(g.hardware, g.workload)
    except ValueError as exc:
        return str(exc)
    return None if prices_arrays(roofs) else ARRAY_TIMING


ARRAY_TIMING = (
    "this device's measured efficiency table prices one configuration at a time "
    "(engine/calibration.py is not array-ready): use analyze() per configuration"
)


def prices_arrays(roofs: Roofs) -> bool:
    """Whether ``roofs.expected_s`` takes array operators (a measured efficiency table may
    not): one probe of a two-element pass."""
    if roofs.calibration is None:
        return True
    probe = OpCost(
        "probe",
        MATMUL,
        flops=np.ones(2),
        weight_bytes=1.0,
        activation_bytes=np.ones(2),
        shape=(np.ones(2), 1, 1),
        family="linear",
    )
    try:
        np.asarray(roofs.expected_s(probe), dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def _times(
    make_pass: Callable[[slice], Pass], n: int, g: Group, roofs: Roofs, logits: bool
) -> Arrays:
    """``pass_times`` over n passes, KEY_CHUNK at a time, as whole arrays of length n."""
    parts: list[Arrays] = []
    for start in range(0, n, KEY_CHUNK):
        sl = slice(start, min(n, start + KEY_CHUNK))
        t = pass_times(g.model, g.layout, make_pass(sl), roofs, logits=logits)
        size = sl.stop - sl.start
        part = {
            name: np.broadcast_to(np.asarray(getattr(t, name), dtype=float), (size,))
            for name in ("flops", "bytes", "time_s", "expected_time_s", "fill_drain_s", "steady_s")
        }
        for s, live in enumerate(t.stage_live_bytes):
            part[f"live_{s}"] = np.broadcast_to(np.asarray(live, dtype=float), (size,))
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


class GroupEvaluator:
    """The rows of one valid group over its array axes (batch, prompt, context, output)."""

    def __init__(
        self,
        group: Group,
        batch: np.ndarray,
        prompt: np.ndarray,
        context: np.ndarray | None,
        output: np.ndarray,
    ) -> None:
        self.group = group
        self.roofs = roofs_for(group.hardware, group.workload)
        self.batch, self.prompt, self.output = batch, prompt, output
        self.context = prompt if context is None else context  # decode's second axis
        self.own_context = context is not None
        self.shape = (
            len(batch),
            len(prompt),
            len(context) if context is not None else 1,
            len(output),
        )
        self.weights = self._stage_weights()
        self._cache: dict[Any, Arrays] = {}
        self._critical: np.ndarray | None = None

    def __len__(self) -> int:
        return int(np.prod(self.shape))

    def _stage_weights(self) -> list[float]:
        """Each stage device's weight bytes (they do not depend on the array axes)."""
        p = prefill_pass(self.group.workload, batch=1, prompt=1)
        t = pass_times(self.group.model, self.group.layout, p, self.roofs)
        return [float(w) for w in t.stage_weight_bytes]

    # ---- keys: (batch, prompt) for prefill, (batch, context) for decode ------------------

    def _grid(
        self,
        name: str,
        k0: int,
        k1: int,
        second: np.ndarray,
        evaluate: Callable[[np.ndarray, np.ndarray], Arrays],
    ) -> tuple[Arrays, int]:
        """Key results for keys k0..k1-1 of a (batch, second) grid, cached when it is small."""
        whole = len(self.batch) * len(second)
        if whole <= GRID_CACHE:
            if name not in self._cache:
                keys = np.arange(whole)
                self._cache[name] = evaluate(
                    self.batch[keys // len(second)], second[keys % len(second)]
                )
            return self._cache[name], 0
        keys = np.arange(k0, k1)
        return evaluate(self.batch[keys // len(second)], second[keys % len(second)]), k0

    def _prefill(self, b: np.ndarray, p: np.ndarray) -> Arrays:
        w, g = self.group.workload, self.group
        out = _times(
            lambda sl: prefill_pass(w, batch=b[sl], prompt=p[sl]), len(b), g, self.roofs, True
        )
        out["bound"] = _bound(out, self.roofs)
        return out

    def _decode(self, b: np.ndarray, c: np.ndarray) -> Arrays:
        """Decode keys; MLA's absorbed form cannot mix empty and filled caches in one array."""
        g, w = self.group, self.group.workload
        empty = c == 0
        if (
            g.model.mla is not None
            and w.mla_decode == "absorbed"
            and empty.any()
            and not empty.all()
        ):
            parts = [(mask, self._decode(b[mask], c[mask])) for mask in (empty, ~empty)]
            out = {k: np.empty(len(b), dtype=v.dtype) for k, v in parts[1][1].items()}
            for mask, part in parts:
                for k, v in part.items():
                    out[k][mask] = v
            return out
        out = _times(
            lambda sl: decode_pass(w, batch=b[sl], context=c[sl]), len(b), g, self.roofs, True
        )
        out["bound"] = _bound(out, self.roofs)
        return out

    def _chunked(self, chunk: int) -> Callable[[np.ndarray, np.ndarray], Arrays]:
        """Chunked-prefill TTFT of (batch, prompt) keys: scheduling.chunked_prefill's sum."""
        w, g = self.group.workload, self.group

        def evaluate(b: np.ndarray, p: np.ndarray) -> Arrays:
            ttft = np.empty(len(b))
            counts = -(-p // chunk)
            last = counts - 1
            tail = _times(
                lambda sl: chunk_pass(w, chunk, last[sl], prompt=p[sl], batch=b[sl]),
                len(b),
                g,
                self.roofs,
                True,
            )["fill_drain_s"]
            plans = []  # (key indices, body chunk indices) per distinct prompt
            for value in np.unique(p):
                keys = np.flatnonzero(p == value)
                plans.append((keys, priced_chunks(int(-(-value // chunk)))[:-1]))
            bb = np.concatenate([np.tile(b[k], len(j)) for k, j in plans] or [np.empty(0)])
            jj = np.concatenate(
                [np.repeat(np.asarray(j, dtype=float), len(k)) for k, j in plans] or [np.empty(0)]
            )
            pp = np.concatenate(
                [np.full(len(k) * len(j), p[k[0]]) for k, j in plans] or [np.empty(0)]
            )
            body = (
                _times(
                    lambda sl: chunk_pass(w, chunk, jj[sl], prompt=pp[sl], batch=bb[sl]),
                    len(bb),
                    g,
                    self.roofs,
                    False,
                )["fill_drain_s"]
                if len(bb)
                else np.empty(0)
            )
            at = 0
            for keys, indices in plans:
                values = body[at : at + len(keys) * len(indices)].reshape(len(indices), len(keys))
                at += values.size
                ttft[keys] = chunked_sum(indices, list(values), tail[keys])
            return {"ttft": ttft}

        return evaluate

    # ---- rows ------------------------------------------------------------------------

    def critical_batch_sizes(self) -> np.ndarray:
        """The critical batch at each value of the decode context axis (0: never)."""
        if self._critical is None:
            g = self.group
            found = []
            for c in self.context:
                w = replace(g.workload, context_len=int(c))
                batch, _reason = critical_batch_size(g.model, w, self.roofs, g.layout)
                found.append(0 if batch is None else batch)
            self._critical = np.asarray(found, dtype=np.int64)
        return self._critical

    def rows(self, start: int, stop: int, *, chunk_size: int | None, critical: bool) -> Arrays:
        """Columns of rows start..stop-1 (row-major over batch, prompt, context, output)."""
        grid = _Rows(self.shape, start, stop)
        ctx_axis = 2 if self.own_context else 1  # decode's second key axis
        pre, p0 = self._grid("prefill", *grid.key_range(1), self.prompt, self._prefill)
        dec, d0 = self._grid("decode", *grid.key_range(ctx_axis), self.context, self._decode)
        p_axes, d_axes = (0, 1), (0, ctx_axis)

        def prefill(col: np.ndarray) -> np.ndarray:
            return grid.expand(col, p_axes, p0)

        def decode(col: np.ndarray) -> np.ndarray:
            return grid.expand(col, d_axes, d0)

        out: Arrays = {}
        for phase, res, spread in (("prefill", pre, prefill), ("decode", dec, decode)):
            out[f"{phase}_flops"] = spread(res["flops"])
            out[f"{phase}_bytes"] = spread(res["bytes"])
            out[f"{phase}_bound"] = spread(BOUNDS[res["bound"]])
            out[f"{phase}_time_s"] = spread(res["time_s"])
            out[f"{phase}_expected_time_s"] = spread(res["expected_time_s"])
        if chunk_size is None:
            prefill_s = prefill(pre["fill_drain_s"])
        else:
            name, evaluate = f"chunk {chunk_size}", self._chunked(chunk_size)
            k_range = grid.key_range(1)
            chunked, c0 = self._grid(name, *k_range, self.prompt, evaluate)
            prefill_s = grid.expand(chunked["ttft"], p_axes, c0)
        out["ttft_s"] = prefill_s + self.roofs.request_overhead_s  # as analyze's TTFT
        out["tpot_s"] = decode(dec["steady_s"])
        batch, prompt = grid.expand(self.batch, (0,)), grid.expand(self.prompt, (1,))
        output = grid.expand(self.output, (3,))
        lives = [
            (prefill(pre[f"live_{s}"]), decode(dec[f"live_{s}"])) for s in range(len(self.weights))
        ]
        out["memory_bytes_per_device"] = self._memory(batch, prompt + output, lives)
        if critical:
            out["critical_batch_size"] = grid.expand(self.critical_batch_sizes(), (ctx_axis,))
        out["batch_size"], out["prompt_len"] = batch, prompt
        out["context_len"], out["output_len"] = grid.expand(self.context, (ctx_axis,)), output
        return out

    def _memory(
        self, batch: np.ndarray, tokens: np.ndarray, lives: list[tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """engine/memory.device_memory, row-wise: the fullest stage's weights + KV + live."""
        g = self.group
        kv_bytes = g.workload.kv_bytes_per_element
        worst = None
        for s, (weights, (pre_live, dec_live)) in enumerate(zip(self.weights, lives, strict=True)):
            kv = stage_kv_cache_bytes(g.model, g.layout, s, batch, tokens, kv_bytes)
            total = stage_total_bytes(weights, kv, np.maximum(pre_live, dec_live))
            worst = total if worst is None else np.maximum(worst, total)
        assert worst is not None
        return np.asarray(worst, dtype=float)


class _Rows:
    """Rows start..stop-1 of a row-major grid of ``shape``, and the columns of values that
    depend on some of its axes only, spread over those rows."""

    def __init__(self, shape: tuple[int, ...], start: int, stop: int) -> None:
        self.shape, self.start, self.stop = shape, start, stop
        self._index: tuple[np.ndarray, ...] | None = None

    def index(self) -> tuple[np.ndarray, ...]:
        """Each row's index along every axis (made once, when a column needs gathering)."""
        if self._index is None:
            self._index = np.unravel_index(np.arange(self.start, self.stop), self.shape)
        return self._index

    def key_range(self, second_axis: int) -> tuple[int, int]:
        """First and last + 1 (batch, ``second_axis``) key the rows use, keys row-major:
        exact for the prompt axis (its keys rise with the row), all of the rows' batches'
        keys for the context axis."""
        n1, n2, n3 = self.shape[1:]
        if second_axis == 1:
            return self.start // (n2 * n3), (self.stop - 1) // (n2 * n3) + 1
        inner = n1 * n2 * n3
        return self.start // inner * n2, ((self.stop - 1) // inner + 1) * n2

    def _keys(self, axes: tuple[int, ...], sizes: tuple[int, ...]) -> np.ndarray:
        index = self.index()
        keys = index[axes[0]]
        for axis, size in zip(axes[1:], sizes[1:], strict=True):
            keys = keys * size + index[axis]
        return keys

    def expand(self, values: np.ndarray, axes: tuple[int, ...], offset: int = 0) -> np.ndarray:
        """``values`` indexed row-major by ``axes`` (from key ``offset``) at every row.

        A whole grid of values is broadcast over the other axes (a copy of at most the
        rows' outer blocks); part of one (keys from ``offset``) is gathered row by row."""
        shape = self.shape
        inner = int(np.prod(shape[1:]))
        b0, b1 = self.start // inner, (self.stop - 1) // inner + 1
        whole = offset == 0 and len(values) == int(np.prod([shape[a] for a in axes]))
        if whole and (b1 - b0) * inner <= 2 * (self.stop - self.start) + inner:
            view = values.reshape([shape[a] if a in axes else 1 for a in range(len(shape))])
            if 0 in axes:
                view = view[b0:b1]
            block = np.broadcast_to(view, (b1 - b0, *shape[1:])).reshape(-1)
            return block[self.start - b0 * inner : self.stop - b0 * inner]
        keys = self._keys(axes, tuple(shape[a] for a in axes))
        gathered: np.ndarray = values[keys - offset]
        return gathered
