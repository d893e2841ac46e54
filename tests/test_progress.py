"""The progress bar draws on a terminal and stays silent when piped."""

from __future__ import annotations

import io

from llm_roofline.render.progress import Progress, progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_tty() -> None:
    stream = io.StringIO()
    assert list(progress(range(5), "x", stream=stream)) == [0, 1, 2, 3, 4]
    with Progress(3, "y", stream) as bar:
        bar.advance(3)
    assert stream.getvalue() == ""


def test_draws_and_clears_on_a_tty() -> None:
    stream = FakeTTY()
    with Progress(4, "sweep", stream, min_interval_s=0.0) as bar:
        bar.advance()
        assert bar.line() == "sweep [######------------------] 1/4  25%"
        bar.advance(3, note="done")
    text = stream.getvalue()
    assert "sweep [" in text and "4/4 100% done" in text
    assert text.endswith("\r\x1b[2K")  # the line is erased at the end


def test_throttled_redraws() -> None:
    stream = FakeTTY()
    with Progress(1000, "", stream, min_interval_s=3600) as bar:
        for _ in range(1000):
            bar.advance()
    assert stream.getvalue().count("\r\x1b[2K") == 3  # first draw, the finish, the clear


def test_unknown_total_counts_up() -> None:
    bar = Progress(None, "items", io.StringIO())
    bar.advance(7)
    assert bar.line() == "items 7"
    assert list(progress(iter("ab"), stream=FakeTTY())) == ["a", "b"]


def test_closed_stream_is_not_a_tty() -> None:
    stream = io.StringIO()
    stream.close()
    assert Progress(1, stream=stream).enabled is False
