"""Shared fixtures: the real data beside the project, and a fresh workspace per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("TROLLSCOPE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")) / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED.is_dir():
        return
    skip = pytest.mark.skip(reason=f"real data not found at {SHARED} (set TROLLSCOPE_SHARED to the shared/ folder)")
    for item in items:
        if "real_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared() -> Path:
    return SHARED


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    return tmp_path / "ws"
