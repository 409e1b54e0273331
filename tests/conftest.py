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


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """One Spark session on local[2] for every Spark test, with its event log on (the SQL it ran).

    Skipped with the reason when PySpark or Java is missing; CI installs both (.ci/run).
    """
    pytest.importorskip("pyspark", reason="PySpark is not installed: pip install -e '.[test]'")
    from trollscope.engine import EngineSpec
    from trollscope.spark import SparkUnavailable, session

    logs = tmp_path_factory.mktemp("spark-events")
    conf = (
        ("spark.ui.enabled", "false"),
        ("spark.eventLog.enabled", "true"),
        ("spark.eventLog.dir", str(logs)),
        ("spark.sql.shuffle.partitions", "4"),
        ("spark.default.parallelism", "2"),
        ("spark.driver.memory", "2g"),
        ("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse"))),
    )
    try:
        s = session(EngineSpec("spark", "local[2]", conf))
    except SparkUnavailable as e:
        pytest.skip(str(e))
    s.trollscope_event_log = logs  # where tests read the SQL Spark says it executed
    yield s
    s.stop()
