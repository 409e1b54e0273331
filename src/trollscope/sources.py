"""Finding input files and reading them whatever their compression.

A path may be a file, a directory (walked recursively) or a glob. gzip is read by DuckDB as it is;
bzip2, zstd and xz are streamed into a staging copy first (DuckDB reads neither bzip2 nor xz, and
its zstd support depends on the build), chunk by chunk so memory stays flat.
"""

from __future__ import annotations

import bz2
import glob
import io
import lzma
import os
import shutil
from pathlib import Path
from typing import IO

import zstandard
from isal import igzip, igzip_lib

HEAD_BYTES = 64 * 1024
SHORT_HEAD_BYTES = 8 * 1024

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\xfd7zXZ\x00": "xz",
}
# Files a walk of a directory skips: not data.
_SKIP_NAMES = {"readme", "readme.md", "readme.txt", "license", "license.txt", ".ds_store"}


class InputError(Exception):
    """An input path names nothing readable."""


def resolve(inputs: list[str]) -> list[Path]:
    """Every file named by ``inputs`` (files, directories walked recursively, globs), sorted, unique."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = [
                Path(root) / f
                for root, _, names in os.walk(p)
                for f in names
                if not f.startswith(".") and f.lower() not in _SKIP_NAMES
            ]
            if not found:
                raise InputError(f"{item}: the directory holds no files to read")
        elif p.is_file():
            found = [p]
        else:
            found = [Path(f) for f in glob.glob(item, recursive=True) if Path(f).is_file()]
            if not found:
                raise InputError(f"{item}: no such file, directory or matching glob")
        out += sorted(found)
    seen: set[Path] = set()
    unique = []
    for f in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(r)
    return unique


# What a damaged or truncated compressed stream raises, across the codecs.
DECOMPRESS_ERRORS = (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError, igzip_lib.IsalError)


def compression(path: Path) -> str | None:
    """The compression of a file, by its first bytes (extensions lie)."""
    with open(path, "rb") as fh:
        start = fh.read(6)
    for magic, name in _MAGIC.items():
        if start.startswith(magic):
            return name
    return None


def open_binary(path: str | Path) -> IO[bytes]:
    kind = compression(Path(path))
    if kind == "gzip":
        return igzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def open_text(path: str | Path, encoding: str = "utf-8") -> IO[str]:
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="replace", newline="")


def _read_upto(fh: IO[bytes], n: int) -> bytes:
    """``n`` bytes, or fewer only at the end of the stream (decompressors may return short reads)."""
    parts, got = [], 0
    while got < n:
        b = fh.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def head(path: Path, encoding: str = "utf-8") -> str:
    """The start of a file, decompressed and decoded (undecodable bytes replaced): its first 8 KB when
    they hold a complete header line, else up to 64 KB (JSON lines run long). Thousands of small
    files are common, so the shorter read matters."""
    try:
        with open_binary(path) as fh:
            raw = _read_upto(fh, SHORT_HEAD_BYTES)
            first = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if len(raw) == SHORT_HEAD_BYTES and (b"\n" not in raw or first in (b"{", b"[")):
                raw += _read_upto(fh, HEAD_BYTES - len(raw))
    except DECOMPRESS_ERRORS as e:
        raise InputError(f"{path}: cannot be read ({e})") from e
    return raw.decode(encoding, errors="replace")


def prepare(path: Path, staging: Path) -> Path:
    """A path DuckDB can scan: the file itself (plain or gzip) or a decompressed staging copy."""
    kind = compression(path)
    if kind is None or (kind == "gzip" and path.suffix == ".gz"):
        return path
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / (path.name + ".plain")
    n = 0
    while target.exists():
        n += 1
        target = staging / f"{path.name}.{n}.plain"
    try:
        with open_binary(path) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
    except DECOMPRESS_ERRORS as e:
        raise InputError(f"{path}: cannot be decompressed ({e})") from e
    return target
