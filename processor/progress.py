"""One progress line over a whole run, on a terminal only.

The stages call `step(progress, STAGE)` as they start and `progress(done, total)` as they go; any
`Progress` callable works (tests, benchmarks), and `step` does nothing for one without stages. On a
terminal `RunProgress` rewrites one line on stderr: "[2/5] Kiểm tra tệp 120/450"; when the stream is
not a terminal (a log, a pipe, the tests) it writes nothing at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO

Progress = Callable[[int, int], None]

READ = "read"
CHECK = "check"
AGGREGATE = "aggregate"
DOCUMENTS = "documents"
PDF = "pdf"

LABELS = {
    READ: "Đọc thư mục nhận",
    CHECK: "Kiểm tra tệp",
    AGGREGATE: "Tổng hợp số liệu",
    DOCUMENTS: "Lập văn bản",
    PDF: "Xuất PDF",
}
RUN_STAGES = (READ, CHECK, AGGREGATE, DOCUMENTS)
STATUS_STAGES = (READ, CHECK)

# Redraws of a count at most this often: a province's 1,000 files would otherwise write 1,000 lines.
_INTERVAL = 0.1


def step(progress: object, stage: str, total: int = 0) -> None:
    """Tell `progress` that `stage` starts (a no-op for a plain callable or None)."""
    start = getattr(progress, "stage", None)
    if start is not None:
        start(stage, total)


class RunProgress:
    """The progress line. `enabled` defaults to whether `stream` is a terminal."""

    def __init__(self, stream: TextIO, stages: Sequence[str] = RUN_STAGES, *, enabled: bool | None = None):
        self.stream = stream
        self.stages = list(stages)
        self.enabled = stream.isatty() if enabled is None else enabled
        self._stage: str | None = None
        self._count: tuple[int, int] | None = None
        self._width = 0
        self._drawn = 0.0

    def stage(self, stage: str, total: int = 0) -> None:
        if stage not in self.stages:
            self.stages.append(stage)
        self._stage, self._count = stage, (0, total) if total else None
        self._draw(force=True)

    def __call__(self, done: int, total: int) -> None:
        self._count = (done, total)
        self._draw(force=done >= total)

    def clear(self) -> None:
        """Take the line away (before other output, and at the end); the next update draws it again."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _draw(self, force: bool) -> None:
        if not self.enabled or self._stage is None:
            return
        now = time.monotonic()
        if not force and now - self._drawn < _INTERVAL:
            return
        self._drawn = now
        number = self.stages.index(self._stage) + 1
        text = f"[{number}/{len(self.stages)}] {LABELS.get(self._stage, self._stage)}"
        if self._count is not None:
            done, total = self._count
            text += f" {done}/{total}"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = max(self._width, len(text))
