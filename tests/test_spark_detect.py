"""Detection and investigation on Spark (``--engine spark``) give DuckDB's results, and really run on Spark."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pytest

import trollscope as ts
from trollscope.detect import LAYERS, detect
from trollscope.engine import EngineSpec

pytestmark = pytest.mark.spark

SPARK_LAYERS = tuple(x for x in LAYERS if x != "near-dup")


def same(a: pa.Table, b: pa.Table, what: str) -> None:
    """Equal tables: same schema, rows in the same order, values equal (floats to 1e-12, relative:
    Java's and C's log10/exp differ in the last bit, and a sum's order may differ)."""
    assert a.schema == b.schema, f"{what}: {a.schema} != {b.schema}"
    assert a.num_rows == b.num_rows, what
    for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist(), strict=True)):
        for k in x:
            u, v = x[k], y[k]
            if isinstance(u, float) and isinstance(v, float):
                assert u == v or math.isclose(u, v, rel_tol=1e-12) or (math.isnan(u) and math.isnan(v)), (
                    what,
                    i,
                    k,
                    u,
                    v,
                )
            else:
                assert u == v, (what, i, k, u, v)


@pytest.fixture(scope="module")
def sim_ws(tmp_path_factory) -> tuple[Path, Path]:
    from trollscope.simulate import simulate

    root = tmp_path_factory.mktemp("spark-sim")
    sim = simulate(posts=20_000, seed=5, out=root / "sim")
    ts.ingest([str(f) for f in sim.files], root / "ws")
    return root / "ws", sim.truth_path


@pytest.fixture(scope="module")
def both(sim_ws, spark):
    ws, _ = sim_ws
    duck = detect(ws, layers=SPARK_LAYERS, write=False)
    on_spark = detect(ws, layers=SPARK_LAYERS, write=False, engine=EngineSpec("spark"))
    return duck, on_spark


def test_detection_on_spark_gives_duckdbs_edges_clusters_and_flagged_accounts(both, sim_ws):
    duck, on_spark = both
    # The planted operations are there to be found (so the parity below is about something).
    assert len(duck.flagged) >= 20 and duck.clusters.num_rows >= 3
    assert on_spark.flagged == duck.flagged
    sig = lambda r: r.edges.filter(r.edges.column("significant"))  # noqa: E731
    assert sig(on_spark).num_rows == sig(duck).num_rows > 100
    for name in ("edges", "clusters", "members", "accounts", "evidence", "groups"):
        same(getattr(duck, name), getattr(on_spark, name), name)
    for layer, figures in duck.layers.items():
        for k in ("candidate_edges", "significant_edges", "coinciding_pairs", "actions", "strata"):
            assert on_spark.layers[layer].get(k) == figures.get(k), (layer, k)
