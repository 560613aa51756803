"""Publishing a period folder without losing what the clerk put in it.

A run writes `output/<period>/` whole in a staging folder and swaps it in with two renames:
`<period>` -> `.old-<period>`, then staging -> `<period>`. What the previous folder holds that this
program did not write, or wrote and someone changed since (size or sha256 differ from the previous
`manifest.json`), is then moved into `da-sua-YYYYMMDD-HHMMSS/` inside the new folder, at the same
relative path; a folder holding nothing the program wrote moves as one. So do the PDFs of an earlier
`--pdf` run that this run does not write again (they may have been signed or sent). Earlier `da-sua-*`
folders move over as they are. The program's own unchanged files go with the old folder.

Every step is a rename inside the output folder, and a kill at any moment loses nothing:
- before `<period>` is set aside: the previous folder is untouched; the staging folder is debris;
- between the two renames: only `.old-<period>` exists; recovery renames it back;
- after the swap, while the kept files move: `.keep-<period>.json` (written before the first rename,
  removed after the last move) tells recovery to finish the moves into the dated folder it names;
- while `.old-<period>` is deleted (no `.keep-` file): everything kept has already moved; recovery
  finishes the deletion.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from processor.render import atomic
from processor.render.summary import MANIFEST_FORMAT, MANIFEST_NAME

STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"
PLAN_PREFIX = ".keep-"
KEPT_PREFIX = "da-sua-"

# Why an entry of the previous folder is kept, as the console line says it.
NOT_OURS = "không do thidua tạo"
CHANGED = "đã sửa sau lần chạy trước"
EARLIER_PDF = "bản PDF của lần chạy trước; lần này không xuất PDF"
EARLIER_KEPT = "thư mục đã giữ lại từ trước"


@dataclass(frozen=True)
class Kept:
    """One file or folder of the previous period folder moved into the new one.

    `source` is relative to the previous folder, `target` to the new one (both with "/")."""

    source: str
    target: str
    reason: str
    folder: bool = False


def _at(folder: Path, relative: str) -> Path:
    return folder.joinpath(*relative.split("/"))


def _listed(folder: Path) -> dict[str, tuple[int, str]] | None:
    """What the folder's manifest says the program wrote there (path -> size, sha256); None when the
    manifest is missing or not ours, and so every file there counts as the clerk's."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_bytes())
        if data.get("format") != MANIFEST_FORMAT:
            return None
        return {str(e["path"]): (int(e["size"]), str(e["sha256"])) for e in data["outputs"]}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _unchanged(path: Path, size: int, sha256: str) -> bool:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != size:
            return False
        return atomic.sha256_file(path) == sha256
    except OSError:
        return False  # unreadable now: keep it rather than guess


def keep_list(previous: Path, written_now: Iterable[str], kept_folder: str) -> list[Kept]:
    """What of the `previous` period folder must survive the swap, in a stable order.

    `written_now`: the relative paths the new run wrote (its manifest's outputs)."""
    listed = _listed(previous)
    ours = listed or {}
    written_now = set(written_now)
    kept: list[Kept] = []

    def holds_ours(relative: str) -> bool:
        return any(path.startswith(relative + "/") for path in ours)

    def visit(relative: str) -> None:
        folder = _at(previous, relative) if relative else previous
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            path = f"{relative}/{entry.name}" if relative else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and not relative and entry.name.startswith(KEPT_PREFIX):
                kept.append(Kept(path, path, EARLIER_KEPT, folder=True))
            elif is_dir and holds_ours(path):
                visit(path)
            elif is_dir:
                kept.append(Kept(path, f"{kept_folder}/{path}", NOT_OURS, folder=True))
            elif path == MANIFEST_NAME and listed is not None:
                continue  # the program's own record, written again by every run
            elif entry.name.startswith(".") and entry.name.endswith(atomic.TEMP_SUFFIX):
                continue  # a temporary file of a killed run
            elif path not in ours:
                kept.append(Kept(path, f"{kept_folder}/{path}", NOT_OURS))
            elif not _unchanged(Path(entry.path), *ours[path]):
                kept.append(Kept(path, f"{kept_folder}/{path}", CHANGED))
            elif path not in written_now and path.lower().endswith(".pdf"):
                kept.append(Kept(path, f"{kept_folder}/{path}", EARLIER_PDF))

    visit("")
    return kept


def kept_folder_name(previous: Path, now: dt.datetime) -> str:
    """`da-sua-YYYYMMDD-HHMMSS`, numbered if an earlier one (carried over) has that name."""
    name = f"{KEPT_PREFIX}{now:%Y%m%d-%H%M%S}"
    n = 1
    while (previous / name).exists():
        n += 1
        name = f"{KEPT_PREFIX}{now:%Y%m%d-%H%M%S}-{n}"
    return name


def _plan_path(final: Path) -> Path:
    return final.with_name(f"{PLAN_PREFIX}{final.name}.json")


def _move_kept(old: Path, final: Path, kept: Iterable[Kept]) -> None:
    for item in kept:
        source, target = _at(old, item.source), _at(final, item.target)
        if not os.path.lexists(source):
            continue  # moved before a kill
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


class KeepFailed(OSError):
    """The new folder is published but a kept file could not be moved yet; it is safe in `old`."""

    def __init__(self, cause: OSError, item: Kept, old: Path, final: Path):
        super().__init__(cause.errno, cause.strerror)
        self.item, self.old, self.final = item, old, final


def publish(staging: Path, final: Path, now: dt.datetime | None = None) -> list[Kept]:
    """Swap `staging` in as `final`, keeping the clerk's files of the previous `final` (see above).

    Raises OSError with nothing changed, or KeepFailed once the new folder is in place."""
    old = final.with_name(OLD_PREFIX + final.name)
    plan = _plan_path(final)
    recover_period(final)  # a folder set aside by a killed run is put back (or finished) first
    kept: list[Kept] = []
    if final.exists():
        name = kept_folder_name(final, now or dt.datetime.now())
        kept = keep_list(final, _listed(staging) or {}, name)
        if kept:
            # Made here, so that a full disk fails before anything is touched.
            for item in kept:
                _at(staging, item.target).parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(plan, json.dumps({"kept_folder": name}))
        try:
            _check_writable(final)
            os.replace(final, old)
        except OSError:
            plan.unlink(missing_ok=True)
            raise
    try:
        os.replace(staging, final)
    except OSError:
        with contextlib.suppress(OSError):  # else the next run's recovery puts it back
            if old.exists() and not final.exists():
                os.replace(old, final)
                plan.unlink(missing_ok=True)
        raise
    for item in kept:
        try:
            _move_kept(old, final, [item])
        except OSError as exc:
            raise KeepFailed(exc, item, old, final) from None
    plan.unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)
    return kept


def _check_writable(final: Path) -> None:
    """A previous period folder (or a folder in it) made read-only could be set aside but never emptied
    afterwards: a hidden `.old-<period>` would stay behind and stop the next run. Refused before
    anything moves, naming the folder."""
    for folder, _, _ in os.walk(final):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), folder)


def recover_period(final: Path) -> list[str]:
    """Undo or finish what a run killed while publishing `final` left; Vietnamese lines saying what."""
    old = final.with_name(OLD_PREFIX + final.name)
    plan = _plan_path(final)
    done: list[str] = []
    if os.path.lexists(old):
        if not final.exists():
            os.replace(old, final)
            done.append(f"Đã khôi phục thư mục kết quả {final} (một lần chạy trước bị ngắt giữa chừng).")
        elif plan.exists():
            try:
                name = str(json.loads(plan.read_bytes())["kept_folder"])
            except (OSError, ValueError, TypeError, KeyError):
                name = kept_folder_name(final, dt.datetime.now())
            if not name.startswith(KEPT_PREFIX) or "/" in name or "\\" in name:
                name = kept_folder_name(final, dt.datetime.now())
            kept = keep_list(old, _listed(final) or {}, name)
            _move_kept(old, final, kept)
            done += [kept_line(item, final) for item in kept if item.reason != EARLIER_KEPT]
            shutil.rmtree(old, ignore_errors=True)
        else:
            shutil.rmtree(old, ignore_errors=True)
    plan.unlink(missing_ok=True)
    return done


def recover(out_root: Path) -> list[str]:
    """Every period folder of `out_root` as a whole: see recover_period; staging folders are debris."""
    if not out_root.is_dir():
        return []
    done: list[str] = []
    finals = {p.name[len(OLD_PREFIX) :] for p in out_root.glob(f"{OLD_PREFIX}*")}
    finals |= {p.name[len(PLAN_PREFIX) : -len(".json")] for p in out_root.glob(f"{PLAN_PREFIX}*.json")}
    for name in sorted(finals):
        done += recover_period(out_root / name)
    for staging in out_root.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(staging, ignore_errors=True)
    atomic.remove_stale_temps(out_root)  # a plan file being written when the run was killed
    return done


def needs_recovery(out_root: Path) -> bool:
    """Cheap look for a killed publish (so that `status` takes the lock only then)."""
    return out_root.is_dir() and any(
        next(out_root.glob(f"{prefix}*"), None) is not None for prefix in (OLD_PREFIX, PLAN_PREFIX)
    )


def kept_line(item: Kept, final: Path) -> str:
    """The console line for one kept entry: what, why, where it is now."""
    slash = "/" if item.folder else ""
    return f"Đã giữ lại {item.source}{slash} ({item.reason}), chuyển vào {_at(final, item.target)}{slash}"


def replace_subfolder(staging: Path, final: Path, sub: str, now: dt.datetime | None = None) -> list[Kept]:
    """Put `staging/<sub>/` in place of `final/<sub>/` outside a run (`thidua status --reminders`),
    leaving the rest of `final` as it is.

    The keep rules are a run's: what `final/<sub>/` holds that the program did not write, or wrote and
    someone changed since, moves into `final/da-sua-YYYYMMDD-HHMMSS/<sub>/`; the program's own unchanged
    files are replaced. The manifest then lists the new files (rewritten last, atomically), so the next
    run replaces them as its own. A kill part way loses nothing the clerk made: at worst a new draft not
    yet listed is kept by the next run as not ours. A manifest that is not ours is left alone."""
    from processor.render.summary import dumps

    final.mkdir(parents=True, exist_ok=True)
    old = final / sub
    kept: list[Kept] = []
    if os.path.lexists(old):
        name = kept_folder_name(final, now or dt.datetime.now())
        kept = [
            item
            for item in keep_list(final, (), name)
            if item.source == sub or item.source.startswith(sub + "/")
        ]
        for item in kept:
            target = _at(final, item.target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(_at(final, item.source), target)
        if old.is_symlink() or old.is_file():
            old.unlink()
        elif old.exists():
            shutil.rmtree(old)  # only the program's own unchanged files are left in it
    new = staging / sub
    if new.is_dir():
        os.replace(new, old)
    manifest = final / MANIFEST_NAME
    data: dict | None = None
    if manifest.exists():
        if _listed(final) is None:
            return kept
        data = json.loads(manifest.read_bytes())
    else:
        data = {"format": MANIFEST_FORMAT, "program": "thidua", "period": final.name, "outputs": []}
    outputs = [e for e in data["outputs"] if not str(e["path"]).startswith(sub + "/")]
    if old.is_dir():
        for path in sorted(old.rglob("*")):
            if path.is_file() and not path.is_symlink():
                relative = path.relative_to(final).as_posix()
                size = path.stat().st_size
                outputs.append({"path": relative, "sha256": atomic.sha256_file(path), "size": size})
    data["outputs"] = sorted(outputs, key=lambda e: str(e["path"]))
    atomic.write_text(manifest, dumps(data))
    return kept
