"""Atomic writes: a result file is either the previous complete version or the new complete one.

Write to a temporary file in the same folder, flush it to disk, then rename over the final name.
A run killed half way leaves at most a stray `*.tmp-thidua` file, never a half-written result.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
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


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; on success it replaces `final` in one rename."""
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=final.parent)
        os.close(handle)
    except OSError as exc:
        raise UserError(f"Không ghi được vào thư mục {final.parent}: {exc.strerror}.") from None
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, _FILE_MODE)
        os.replace(temp, final)
    except OSError as exc:
        raise UserError(f"Không ghi được tệp {final}: {exc.strerror}.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


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


def remove_stale_temps(folder: Path) -> None:
    """Temporary files left by a killed run are removed at the start of the next one."""
    if folder.is_dir():
        for stray in folder.glob(f".*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stray.unlink()
