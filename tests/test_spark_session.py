"""The Spark engine's foundation: the engine option, the session, the workspace as views."""

from __future__ import annotations

import pytest

from trollscope.engine import EngineSpec, engine_spec
from trollscope.spark import master_of


def test_engine_spec_names_the_engines():
    assert engine_spec(None) == EngineSpec("duckdb")
    assert engine_spec("spark").is_spark
    with pytest.raises(ValueError, match="unknown engine 'sqlite'"):
        EngineSpec("sqlite")


def test_master_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    assert master_of(EngineSpec("spark")) == "local[*]"
    monkeypatch.setenv("SPARK_MASTER", "spark://head:7077")
    assert master_of(EngineSpec("spark")) == "spark://head:7077"
    assert master_of(EngineSpec("spark", master="local[2]")) == "local[2]"


@pytest.mark.spark
def test_workspace_tables_are_views_with_duckdbs_rows(spark, tmp_path):
    from trollscope import spark as sp
    from trollscope.ingest import ingest
    from trollscope.simulate import simulate
    from trollscope.workspace import Workspace

    src = tmp_path / "sim"
    simulate(posts=3000, seed=3, out=src)
    ws = Workspace(tmp_path / "ws")
    ingest([str(f) for f in sorted(src.glob("tweets-*"))], ws)
    sp.register_workspace(spark, ws)
    q = "SELECT kind, count(*) AS n, count(DISTINCT account_id) AS a FROM posts GROUP BY kind ORDER BY kind"
    con = ws.connect()
    assert sp.arrow(spark, q).to_pylist() == con.sql(q).to_arrow_table().to_pylist()
    assert sp.arrow(spark, "SELECT count(*) AS n FROM rejects").column("n")[0].as_py() == 0  # empty, from the schema


def test_engine_options_say_what_is_wrong_before_any_work(tmp_path):
    """A malformed --conf, or Spark settings without --engine spark: usage errors (exit 2), no Spark started."""
    from click.testing import CliRunner

    from trollscope.cli import main

    ws = str(tmp_path / "ws")
    bad = CliRunner().invoke(main, ["detect", "-w", ws, "--engine", "spark", "--conf", "spark.driver.memory"])
    assert bad.exit_code == 2 and "is not KEY=VALUE" in bad.output
    lone = CliRunner().invoke(main, ["timeline", "-w", ws, "--conf", "spark.driver.memory=2g"])
    assert lone.exit_code == 2 and "apply to --engine spark only" in lone.output
    assert not (tmp_path / "ws").exists()
