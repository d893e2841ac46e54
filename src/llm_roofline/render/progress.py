"""A tiny progress bar: draws on a terminal's stderr, stays silent when piped.

    with Progress(total=len(points), label="sweep") as bar:
        for point in points:
            ...
            bar.advance()

    for item in progress(items, label="measure"):  # the same, as an iterator wrapper
        ...

With ``eta=True`` the line also shows the time elapsed and the time left (``0:42 elapsed,
ETA 1:03``), estimated from the mean time per unit so far. Nothing is written unless the
stream is a TTY, so logs, pipes and tests see no escape
codes. Redraws are throttled (at most every ``min_interval_s``), so a tight loop pays
almost nothing. The line is cleared when the bar closes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import IO, TypeVar

T = TypeVar("T")

BAR_WIDTH = 24


class Progress:
    """A one-line bar ``label [#####-----] 12/40 30%`` on ``stream`` (default stderr)."""

    def __init__(
        self,
        total: int | None = None,
        label: str = "",
        stream: IO[str] | None = None,
        *,
        min_interval_s: float = 0.1,
        enabled: bool | None = None,
        eta: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.eta = eta  # add the time elapsed and the time left (from the mean pace so far)
        self.clock = clock
        self.started = clock()
        self.label = label
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.min_interval_s = min_interval_s
        self._last_draw = float("-inf")
        self._drawn = False

    def advance(self, n: int = 1, note: str = "") -> None:
        """Count ``n`` more units done; redraw if enough time has passed (or at the end)."""
        self.done += n
        now = self.clock()
        finished = self.total is not None and self.done >= self.total
        if self.enabled and (finished or now - self._last_draw >= self.min_interval_s):
            self._last_draw = now
            self._draw(note)

    def line(self, note: str = "") -> str:
        """The text of the bar as it would be drawn now (no escape codes)."""
        head = f"{self.label} " if self.label else ""
        tail = f" {note}" if note else ""
        if not self.total:
            return f"{head}{self.done}{tail}"
        frac = min(1.0, self.done / self.total)
        filled = round(frac * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{head}[{bar}] {self.done}/{self.total} {frac:4.0%}{self._times()}{tail}"

    def _times(self) -> str:
        """' 0:42 elapsed, ETA 1:03' (ETA from the mean time per unit so far)."""
        if not self.eta:
            return ""
        elapsed = max(0.0, self.clock() - self.started)
        text = f" {clock_time(elapsed)} elapsed"
        if self.total and 0 < self.done < self.total:
            text += f", ETA {clock_time(elapsed / self.done * (self.total - self.done))}"
        return text

    def _draw(self, note: str) -> None:
        self.stream.write("\r\x1b[2K" + self.line(note))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar's line (only if one was drawn)."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress(
    items: Iterable[T],
    label: str = "",
    total: int | None = None,
    stream: IO[str] | None = None,
) -> Iterator[T]:
    """Yield ``items`` while drawing a bar (``total`` defaults to ``len(items)`` if known)."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]  # any sized iterable
        except TypeError:
            total = None
    with Progress(total, label, stream) as bar:
        for item in items:
            yield item
            bar.advance()


def clock_time(seconds: float) -> str:
    """'0:07', '12:34', '1:02:03'."""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or fake streams
        return False
