"""A clerk's workspace: config.toml, input_templates/, inbox/, output/."""

from __future__ import annotations

import shutil
from pathlib import Path

from processor.config import default_config_text
from processor.records import UserError

TEMPLATE_DIR = "input_templates"
INBOX_DIR = "inbox"
OUTPUT_DIR = "output"


def bundled_templates() -> Path:
    """Word templates and the master Excel form shipped inside the package."""
    return Path(__file__).parent / "data" / "templates"


def create_workspace(directory: Path) -> tuple[list[Path], list[Path]]:
    """Create the workspace folders and files; never overwrite. Returns (created, kept)."""
    created: list[Path] = []
    kept: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in (TEMPLATE_DIR, INBOX_DIR, OUTPUT_DIR):
            folder = directory / name
            (kept if folder.exists() else created).append(folder)
            folder.mkdir(exist_ok=True)
        config_path = directory / "config.toml"
        if config_path.exists():
            kept.append(config_path)
        else:
            config_path.write_text(default_config_text(), encoding="utf-8")
            created.append(config_path)
        source = bundled_templates()
        if source.is_dir():
            for template in sorted(source.iterdir()):
                target = directory / TEMPLATE_DIR / template.name
                if target.exists():
                    kept.append(target)
                else:
                    shutil.copy2(template, target)
                    created.append(target)
    except OSError as exc:
        raise UserError(f"Không tạo được thư mục làm việc {directory}: {exc.strerror}.") from None
    return created, kept
