"""Finding input files and reading them whatever their compression.

A path may be a file, a directory (walked recursively) or a glob. gzip is read as it is (by Arrow,
or by DuckDB); bzip2, zstd and xz are streamed into a staging copy first (DuckDB reads neither
bzip2 nor xz, and its zstd support depends on the build), chunk by chunk so memory stays flat.
A compressed file that breaks off or is damaged partway is read up to the break (``salvage``).
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import glob
import io
import lzma
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import zstandard
from isal import igzip

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
            # Walked from its resolved path, a file's path is already canonical unless the file is a
            # link (the walk does not enter linked folders): one realpath per folder, not per file.
            found = [
                f.resolve() if f.is_symlink() else f
                for root, _, names in os.walk(p.resolve())
                for f in (Path(root) / n for n in names if not n.startswith(".") and n.lower() not in _SKIP_NAMES)
            ]
            if not found:
                raise InputError(f"{item}: the directory holds no files to read")
        elif p.is_file():
            found = [p.resolve()]
        else:
            found = [Path(f).resolve() for f in glob.glob(item, recursive=True) if Path(f).is_file()]
            if not found:
                raise InputError(f"{item}: no such file, directory or matching glob")
        out += sorted(found)
    return list(dict.fromkeys(out))


# What the decompressors of `_inflate` raise on a damaged stream.
DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error, zstandard.ZstdError, lzma.LZMAError)


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


class _Inflated:
    """A compressed file as a byte stream that inflates only as far as it is read and ends quietly
    where the stream breaks (``broken`` then says how). A gzip file object inflates whole buffers:
    several times the cost per file, which shows over thousands of small files."""

    def __init__(self, path: Path, kind: str) -> None:
        self._chunks = _inflate(path, kind)
        self._buf = b""
        self.broken: BrokenStream | None = None

    def read(self, n: int) -> bytes:
        while len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
            except BrokenStream as e:
                self.broken = e
                break
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def close(self) -> None:
        self._chunks.close()


# Byte-order marks, longest first (UTF-32 LE begins like UTF-16 LE). Excel's "Unicode text" is UTF-16 LE.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)  # fmt: skip
# What the scans read without a transcoded copy (Arrow and DuckDB both take these two).
NATIVE_ENCODINGS = ("utf-8", "latin-1")


def normal_encoding(name: str) -> str:
    """Python's canonical name of an encoding (``UTF8``, ``cp1252``, ``Windows-1252`` …); an unknown
    name is an :class:`InputError` that says what to try."""
    try:
        n = codecs.lookup(name).name
    except LookupError as e:
        raise InputError(f"unknown encoding {name!r}: try utf-8, utf-16, cp1252 (Windows) or latin-1") from e
    return {"iso8859-1": "latin-1", "utf-8-sig": "utf-8"}.get(n, n)


def bom_encoding(start: bytes) -> str | None:
    """The encoding a file's byte-order mark declares, if it has one."""
    return next((enc for bom, enc in _BOMS if start.startswith(bom)), None)


def head(path: Path, encoding: str = "utf-8") -> str:
    return head_and_encoding(path, encoding)[0]


def head_and_encoding(path: Path, encoding: str = "utf-8") -> tuple[str, str]:
    """The start of a file, decompressed and decoded (undecodable bytes replaced): its first 8 KB when
    they hold a complete header line, else up to 64 KB (JSON lines run long). Thousands of small
    files are common, so the shorter read matters. A compressed file cut short within its head still
    gives what precedes the break (the read then salvages its records, see :func:`salvage`); one that
    gives nothing at all is an :class:`InputError`. Also returns the file's encoding: its byte-order
    mark's, else ``encoding``."""
    try:
        kind = compression(path)
        with contextlib.closing(_Inflated(path, kind) if kind else open(path, "rb")) as fh:
            raw = _read_upto(fh, SHORT_HEAD_BYTES)
            first = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if len(raw) == SHORT_HEAD_BYTES and (b"\n" not in raw or first in (b"{", b"[")):
                raw += _read_upto(fh, HEAD_BYTES - len(raw))
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e})") from e
    if not raw and isinstance(fh, _Inflated) and fh.broken:  # junk behind the magic, or cut before a block
        raise InputError(f"{path}: cannot be read ({fh.broken})")
    enc = bom_encoding(raw) or normal_encoding(encoding)  # a BOM outranks what the user declared
    return raw.decode(enc, errors="replace").lstrip("\ufeff"), enc


class BrokenStream(OSError):
    """A compressed stream that is damaged or ends before its end marker (``offset``: the
    decompressed bytes that came before the break; ``cut_short``: it ends rather than being garbled)."""

    def __init__(self, offset: int, reason: str, cut_short: bool = False) -> None:
        super().__init__(reason)
        self.offset, self.cut_short = offset, cut_short


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor()
    return zstandard.ZstdDecompressor().decompressobj()


def _inflate(path: Path, kind: str | None) -> Iterator[bytes]:
    """The decompressed bytes of ``path``, member after member, in chunks, giving out every byte
    that precedes a break before raising :class:`BrokenStream` (the stream readers of the codec
    modules drop their last buffer when they fail)."""
    if kind is None:
        raise BrokenStream(0, "not a compressed file")
    out = 0
    d = _decompressor(kind)
    started = False
    capped = kind == "gzip"  # zlib can cap a step's output, and checks gzip's CRC only at a member's end
    with open(path, "rb") as fh:
        # Small steps: a decompressor that fails gives nothing of that step's output.
        while chunk := fh.read(16 * 1024):
            while chunk:
                if d.eof:  # the next member or frame
                    d = _decompressor(kind)
                try:
                    data = d.decompress(chunk, 8 * 1024) if capped else d.decompress(chunk)
                except DECOMPRESS_ERRORS as e:
                    raise BrokenStream(out, f"the {kind} stream is damaged ({e})") from e
                started = True
                out += len(data)
                if data:
                    yield data
                chunk = d.unused_data if d.eof else d.unconsumed_tail if capped else b""
    if started and not d.eof:
        raise BrokenStream(out, f"the {kind} stream ends before its end marker", cut_short=True)


def check_stream(path: Path) -> None:
    """Raise :class:`BrokenStream` if ``path``'s compressed stream is cut short or damaged."""
    for _ in _inflate(path, compression(path)):
        pass


@dataclass
class Salvage:
    """The readable start of a broken compressed file (see :func:`salvage`)."""

    path: Path  # staging copy: every complete line before the break
    tail: bytes  # the broken-off rest after the last complete line
    offset: int  # decompressed bytes before the break
    reason: str
    cut_short: bool  # the file ends early (else it is garbled, and lines before the break may be too)


def salvage(path: Path, staging: Path) -> Salvage | None:
    """For a compressed file that breaks off or is damaged partway (a partial download), its
    complete lines before the break as a staging copy, so those records are read rather than lost
    with the file. None when the stream is whole, or nothing before the break can be used.
    """
    kind = compression(path)
    if kind is None:
        return None
    target = _staging_copy(staging, path, "salvaged")
    tail = bytearray()
    broken = None
    with open(target, "wb") as dst:
        try:
            for data in _inflate(path, kind):
                cut = data.rfind(b"\n")
                if cut < 0:
                    tail += data
                    continue
                dst.write(tail)
                dst.write(data[: cut + 1])
                tail = bytearray(data[cut + 1 :])
        except BrokenStream as e:
            broken = e
    if broken is None or target.stat().st_size == 0:
        target.unlink()
        return None
    return Salvage(target, bytes(tail), broken.offset, str(broken), broken.cut_short)


def count_lines(path: Path) -> int:
    """Lines in ``path`` once decompressed (a last line without a newline counts; a stream that
    breaks off counts the lines before the break): the records of a file rejected whole."""
    n, last = 0, b"\n"
    with contextlib.suppress(*DECOMPRESS_ERRORS), open_binary(path) as fh:
        while data := fh.read(1 << 20):
            n += data.count(b"\n")
            last = data[-1:]
    return n + (last != b"\n")


# Stands in for a bare carriage return while a file is parsed (see :func:`mask_bare_cr`): a
# private-use character, which no tweet text carries in practice.
CR_MASK = "\ue000"


def mask_bare_cr(path: Path, staging: Path, encoding: str = "utf-8") -> tuple[Path, int] | None:
    """A staging copy of ``path`` with each bare carriage return (one not ending a line)
    replaced by :data:`CR_MASK`, and how many there were; None when there is none to mask (or the
    file holds the mask character itself, or is not UTF-8).

    CSV parsers (DuckDB's and Arrow's) end a record at a bare CR even in an unquoted field, so a
    tweet holding one splits in two (congress-2015-2018 has two). Reading the masked copy keeps the
    record whole; ingest turns the mask back into the CR in the stored text.
    """
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    mask = CR_MASK.encode()
    target = _staging_copy(staging, path, "cr")
    n, carry, clash = 0, b"", False
    with open_binary(path) as src, open(target, "wb") as dst:
        while data := src.read(1 << 20):
            data = carry + data
            carry = data[-1:] if data.endswith(b"\r") else b""  # a CR at a chunk's end: see the next byte
            data = data[: len(data) - len(carry)]
            if mask in data:
                clash = True
                break
            masked, k = re.subn(rb"\r(?!\r*\n)", mask, data)  # CRs ending a line (`\r\r\n`) stay
            n += k
            dst.write(masked)
        if carry and not clash:
            dst.write(mask)
            n += 1
    if n == 0 or clash:
        target.unlink()
        return None
    return target, n


def _staging_copy(staging: Path, path: Path, suffix: str) -> Path:
    """A fresh name in ``staging`` for a copy of ``path`` (files of the same name may come from
    several folders)."""
    staging.mkdir(parents=True, exist_ok=True)
    target, n = staging / f"{path.name}.{suffix}", 0
    while target.exists():
        n += 1
        target = staging / f"{path.name}.{n}.{suffix}"
    return target


def prepare(path: Path, staging: Path, encoding: str | None = None) -> Path:
    """A path DuckDB can scan: the file itself (plain or gzip) or a decompressed staging copy;
    with ``encoding``, a copy decoded from it and written as UTF-8 (what the scans cannot read
    themselves: UTF-16, UTF-32, Windows-1252 …; bytes invalid in it are replaced with U+FFFD)."""
    kind = compression(path)
    if encoding is not None:
        return _transcode(path, kind, staging, encoding)
    if kind is None or (kind == "gzip" and path.suffix == ".gz"):
        return path
    target = _staging_copy(staging, path, "plain")
    try:  # the incremental decompressors: zstd's stream reader ends quietly where a frame is cut
        with open(target, "wb") as dst:
            for data in _inflate(path, kind):
                dst.write(data)
    except BrokenStream as e:
        raise InputError(f"{path}: cannot be decompressed ({e})") from e
    return target


def _transcode(path: Path, kind: str | None, staging: Path, encoding: str) -> Path:
    target = _staging_copy(staging, path, "utf8")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    try:
        with open(target, "wb") as dst, contextlib.closing(_Inflated(path, kind) if kind else open(path, "rb")) as src:
            first = True
            while chunk := src.read(1024 * 1024):
                text = decoder.decode(chunk)
                if first:  # the BOM says which encoding; it is not text
                    text, first = text.lstrip("\ufeff"), False
                dst.write(text.encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
            if isinstance(src, _Inflated) and src.broken:
                raise src.broken
    except BrokenStream as e:
        raise InputError(f"{path}: cannot be decompressed ({e})") from e
    return target


# Files an export keeps beside its data (a Telegram export's photos/, video_files/ …), by magic bytes.
_MEDIA = (
    (b"\xff\xd8\xff", "JPEG image"), (b"\x89PNG", "PNG image"), (b"GIF8", "GIF image"), (b"%PDF", "PDF"),
    (b"OggS", "Ogg audio"), (b"\x1aE\xdf\xa3", "WebM/Matroska video"), (b"ID3", "MP3 audio"), (b"PK\x03\x04", "zip archive"),
)  # fmt: skip


def media_kind(path: Path) -> str | None:
    """What a file that is not data is, when it is an image, a video, audio, a PDF or an archive."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(12)
    except OSError:
        return None
    if start[4:8] == b"ftyp":
        return "MP4 video"
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return "WebP image"
    return next((what for magic, what in _MEDIA if start.startswith(magic)), None)


def looks_html(head: str) -> bool:
    """An HTML page (a saved error or login page) rather than the data it was meant to be."""
    start = head.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<?xml")) or "<html" in start
