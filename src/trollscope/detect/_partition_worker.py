"""Leiden partitions of discovery graphs in a process of their own (see groups._partitions).

Reads one pickle from stdin — ``(graphs, n_accounts, kw)`` — and writes the pickled list of
``groups.partition(*graph, n_accounts, **kw)`` to stdout. A fresh interpreter, started by the
parent with ``python -m``: it shares nothing with the parent's threads and never imports the
parent's ``__main__``.
"""

from __future__ import annotations

import pickle
import sys

from .groups import partition


def main() -> None:
    graphs, n_accounts, kw = pickle.load(sys.stdin.buffer)
    out = [partition(*g, n_accounts, **kw) for g in graphs]
    pickle.dump(out, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
