"""coordination-network-toolkit's own command line, with the network computation timed in-process.

Run inside benchmarks/.venv-peers by benchmarks/detect.py:
``python _cnt_timed.py TIMES.json DB compute co_link --time_window 300 ...`` behaves exactly like
``python -m coordination_network_toolkit DB compute ...`` and also writes to TIMES.json the seconds
spent inside CNT's compute function (its whole work: index creation, the windowed self-join, the
edge table), so the benchmark can compare work with work as well as process with process.
"""

from __future__ import annotations

import json
import sys
import time

import coordination_network_toolkit.__main__ as cnt_cli

COMPUTE = [name for name in dir(cnt_cli) if name.startswith("compute_co_")]


def main() -> None:
    out = sys.argv.pop(1)
    spent: dict[str, float] = {}

    def timed(name, fn):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

        return run

    for name in COMPUTE:
        setattr(cnt_cli, name, timed(name, getattr(cnt_cli, name)))
    cnt_cli.main()
    with open(out, "w") as f:
        json.dump({"seconds": sum(spent.values()), "functions": spent}, f)


if __name__ == "__main__":
    main()
