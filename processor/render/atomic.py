"""Atomic writes: a result file is either the previous complete version or the new complete one.

Write to a temporary file in the same folder, flush it to disk, then rename over the final name.
A run killed half way leaves at most a stray `*.tmp-thidua` file, never a half-written result.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from processor.records import UserError

TEMP_SUFFIX = ".tmp-thidua"


def _file_mode() -> int:
    """The mode a plain open() would give; mkstemp's private 0600 would hide results on a shared folder."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()

# The OS words for these are English ("No space left on device"); the clerk needs them in Vietnamese.
_OS_REASONS = {
    errno.ENOSPC: "ổ đĩa đã đầy, không còn chỗ trống",
    errno.EDQUOT: "đã hết dung lượng được cấp trên ổ đĩa",
    errno.EACCES: "không có quyền ghi (thư mục chỉ cho đọc hoặc tệp đang bị chương trình khác khóa)",
    errno.EPERM: "không có quyền ghi (thư mục chỉ cho đọc hoặc tệp đang bị chương trình khác khóa)",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.EEXIST: "đã có một tệp trùng tên ở đó, không phải thư mục",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.ENOENT: "đường dẫn không tồn tại",
    errno.EBUSY: "tệp hoặc thư mục đang được chương trình khác sử dụng",
    errno.EIO: "lỗi đọc ghi của ổ đĩa",
}


def describe_os_error(exc: OSError) -> str:
    """Why a write failed, in words for the clerk."""
    return _OS_REASONS.get(exc.errno) or exc.strerror or str(exc)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; on success it replaces `final` in one rename."""
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=final.parent)
        os.close(handle)
    except OSError as exc:
        raise UserError(f"Không ghi được vào thư mục {final.parent}: {describe_os_error(exc)}.") from None
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, _FILE_MODE)
        os.replace(temp, final)
    except OSError as exc:
        let_go_quietly(exc)
        raise UserError(f"Không ghi được tệp {final}: {describe_os_error(exc)}.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def let_go_quietly(exc: BaseException) -> None:
    """Free now, silently, what a failed write left open in the frames of its traceback.

    A library writer that failed half way (openpyxl's workbook writer and its generators, a ZipFile)
    still holds its file there. Freed later, its finalizer flushes to the full disk once more and
    Python prints "Exception ignored in ... Traceback" after the clerk's Vietnamese message. The
    failure itself is reported; its echoes from finalizers are not news.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            # Frames still running are left as they are; clearing a suspended generator's frame closes
            # it, and what a half-written library generator raises then is one more echo.
            with contextlib.suppress(Exception):
                traceback.clear_frames(exc.__traceback__)
            exc = exc.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def write_bytes(final: Path, data: bytes) -> Path:
    with atomic_path(final) as temp:
        temp.write_bytes(data)
    return final


def write_text(final: Path, text: str) -> Path:
    return write_bytes(final, text.encode("utf-8"))


def write_with(final: Path, writer: Callable[[Path], object]) -> Path:
    """Let a library that saves to a path (openpyxl, docxtpl) write the temporary file."""
    with atomic_path(final) as temp:
        writer(temp)
    return final


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temps(folder: Path, min_age_seconds: float = 0) -> None:
    """Temporary files left by a killed run are removed at the start of the next one. With
    `min_age_seconds`, younger ones stay: a process that takes no lock may be writing one right now."""
    if folder.is_dir():
        now = time.time()
        for stray in folder.glob(f".*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if now - stray.stat().st_mtime >= min_age_seconds:
                    stray.unlink()
