"""benchmarks/real_eval.py's day shift, on a small table (no real data needed)."""

from __future__ import annotations

import duckdb
from helpers import real_eval


def test_shift_day_moves_the_busiest_day_whole():
    con = duckdb.connect()
    times = ["2016-03-01 23:59:00", "2016-03-02 00:00:30", "2016-03-02 13:15:00", "2016-03-02 23:59:59",
             "2016-03-03 08:00:00"]  # fmt: skip
    con.execute("CREATE TABLE ira_all AS SELECT unnest(?) AS publish_date, 'x' AS content", [times])
    query, note = real_eval().shift_day(con, "2015-02-16")
    got = sorted(r[0] for r in con.execute(f"SELECT publish_date FROM ({query})").fetchall())
    # The busiest day (2016-03-02, three posts) lands on 2015-02-16 with its clock times kept.
    assert got == ["2015-02-16 00:00:30", "2015-02-16 13:15:00", "2015-02-16 23:59:59"]
    assert "2016-03-02" in note and "2015-02-16" in note
