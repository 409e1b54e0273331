"""Source formats. One module per family; each exposes ``NAME``, ``detect`` and ``read``.

A reader turns a batch of files into SQL (DuckDB dialect) that ingest runs:

- ``records``: one row per record read, with any subset of the canonical post columns
  (``schema.POSTS``) plus ``reject_reason`` (NULL for a good record) and ``raw`` (the record's text,
  for rejects). Columns the reader leaves out are derived by ingest (kind, RT parsing, entities,
  synthetic ids) — so readers stay small and the derivation lives in one place.
- ``errors``: records the reader could not even split into fields (a broken CSV quote, a JSON line
  cut off): ``source_file, source_line, byte_offset, reason, raw``. Run after ``records``.
- ``accounts``: any subset of ``schema.ACCOUNTS`` columns, one row per account seen. It runs after
  ingest has materialised ``records`` as the table ``_records`` and may select from it.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol

import duckdb


class ReaderError(Exception):
    """A file cannot be read by the chosen reader; the message names the file and what to try."""


@dataclass
class ReadOptions:
    """Options that change how sources are read; recorded in the ingest log."""

    encoding: str = "utf-8"
    mapping: dict[str, str] = field(default_factory=dict)  # canonical column -> source column
    time_format: str | None = None  # strptime format for the generic reader
    delimiter: str | None = None
    labels: str | None = None  # a CSV of account labels to join (IRA authors.csv is found by itself)
    strict: bool = True  # set False by ingest to retry a file the strict CSV parser refuses whole
    platform: str | None = None  # --platform: for files whose format does not fix one (generic, mcl)
    links: str | None = None  # --links: a CSV of account_id,actor stored for the cross-platform layer


@dataclass
class ReaderOutput:
    records: str
    errors: str | None = None
    accounts: str | None = None
    notes: list[str] = field(default_factory=list)


class Reader(Protocol):
    NAME: str

    def detect(self, head: str, path: Path) -> bool: ...

    def read(self, con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput: ...


READERS = (
    "ira", "ioarchive", "twarc", "telegram", "telethon", "tgdataset", "reddit", "mastodon", "bluesky", "crowdtangle", "mcl",
    "generic",
)  # fmt: skip  # detection order: specific formats before the generic one


def registry() -> dict[str, ModuleType]:
    """Reader modules by name, in detection order."""
    mods = []
    for name in READERS:
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            mods.append(importlib.import_module(f"{__name__}.{name}"))
    return {m.NAME: m for m in mods}


def detect_format(head: str, path: Path) -> str | None:
    for name, mod in registry().items():
        if mod.detect(head, path):
            return name
    return None
