from pathlib import Path

import pytest

from processor.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(REPO / "config.toml")


@pytest.fixture
def config_text() -> str:
    return (REPO / "config.toml").read_text(encoding="utf-8")
