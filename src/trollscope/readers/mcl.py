"""Facebook and Instagram posts as the Meta Content Library writes them to CSV (one post a row).

The Content Library (CrowdTangle's successor, 2024) names its columns after its API fields,
flattened with dots: ``id``, ``creation_time``, ``text``, ``lang``, ``post_owner.id``/``.name``/
``.username``/``.type``, ``surface.id``/``.name``/``.username``/``.type`` (Facebook: the page, group,
event or profile the post appears on), ``link_attachment.link`` (Facebook), ``shared_post_id`` (on a
reshare), ``hashtags`` (Instagram), ``multimedia``, ``is_branded_content``, ``statistics.*``,
``mcl_url``. No real export was at hand: the names come from Meta's data dictionary and from tools
that read these files (docs/ingest.md says which, and what is assumed).

Mapping:

- ``post_id`` is ``facebook:<id>`` / ``instagram:<id>`` (the Library's own ids, which Meta says are
  not Facebook's: a page in a CrowdTangle and a Content Library export is two accounts).
- The account is the post's owner (``facebook:<post_owner.id>``; on Instagram
  ``instagram:<post_owner.username>``, as CrowdTangle's Instagram accounts are named). On a reshare
  the Library names the *original's* author in ``post_owner``, so the account is the surface that
  reshared it, and the post is a repost of ``shared_post_id`` by that author. The venue is the
  surface's name (the page or group), else the owner's.
- Which platform: ``--platform facebook|instagram`` when given; else the ``mcl_url`` of the row
  (``…/facebook/…`` or ``…/instagram/…``); else the file's columns (``surface.*``, ``shared_post_id``,
  ``link_attachment.*`` and reaction counts are Facebook's only).
- ``creation_time`` is ISO 8601 (an offset is converted to UTC; none is read as UTC) or epoch seconds.
- Links are ``link_attachment.link`` (or ``link_url``) and the links in the text; Instagram's
  ``hashtags`` column is used when filled, else hashtags come from the text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import text_urls
from ._scan import bracket_list, header, named_csv, sql_str
from ._scan import layout as layout
from .generic import _auto_parsers

NAME = "mcl"
PLATFORM = "facebook"
PLATFORMS = ("facebook", "instagram")  # what --platform may choose for these files (ingest checks)
__all__ = ["NAME", "PLATFORM", "PLATFORMS", "detect", "layout", "read"]

# Columns only Facebook posts have (Meta's data dictionary lists none of them for Instagram).
FACEBOOK_ONLY = ("shared_post_id", "link_attachment.link", "statistics.reaction_count", "statistics.share_count")


def detect(head: str, path: Path) -> bool:
    cols = set(header(head))
    return {"id", "creation_time"} <= cols and any(c.startswith(("post_owner.", "surface.")) for c in cols)


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    scan = named_csv(con, files, encoding=opts.encoding, strict=opts.strict)
    cols, have, col = scan.columns, set(scan.columns), scan.col
    facebook = any(c.startswith("surface.") for c in cols) or bool(have & set(FACEBOOK_ONLY))
    guess = "facebook" if facebook else "instagram"
    if opts.platform:
        platform, how = sql_str(opts.platform), f"{opts.platform} (from --platform)"
    else:
        url = f"lower({col('mcl_url')})"
        platform = (
            f"CASE WHEN contains({url}, '/instagram/') THEN 'instagram' WHEN contains({url}, '/facebook/') "
            f"THEN 'facebook' ELSE {sql_str(guess)} END"
        )
        how = f"{guess} where mcl_url does not say (its columns; --platform facebook|instagram sets it)"
    shared = col("shared_post_id")
    owner_id, owner_name, owner_user = col("post_owner.id"), col("post_owner.name"), col("post_owner.username")
    surface_id, surface_name = col("surface.id"), col("surface.name")
    # On a reshare post_owner is the original's author: the account that reshared is the surface.
    reshared_by_surface = f"({shared} IS NOT NULL AND {surface_id} IS NOT NULL)"
    by_owner = f"CASE WHEN _platform = 'instagram' THEN coalesce(lower({owner_user}), {owner_id}) ELSE {owner_id} END"
    account = f"CASE WHEN {reshared_by_surface} THEN {surface_id} ELSE coalesce({by_owner}, {surface_id}) END"
    handle = (
        f"CASE WHEN {reshared_by_surface} THEN coalesce({col('surface.username')}, {surface_name}) "
        f"ELSE coalesce({owner_user}, {owner_name}, {col('surface.username')}, {surface_name}) END"
    )
    name = f"CASE WHEN {reshared_by_surface} THEN {surface_name} ELSE coalesce({owner_name}, {surface_name}) END"
    text = f"coalesce({col('text')}, '')"
    links = f"list_filter([{col('link_attachment.link', 'link_url')}], lambda u: u IS NOT NULL)"
    raw_time = col("creation_time")
    when = f"coalesce({', '.join(p for _, p in _auto_parsers(raw_time)[:2])})"
    tags = col("hashtags")
    records = f"""
        SELECT _platform || ':' || {col("id")} AS post_id,
               _platform || ':' || ({account}) AS account_id, {handle} AS handle,
               {when} AS created_at, {text} AS text, lower({col("lang")}) AS lang,
               _platform AS platform, coalesce({surface_name}, {owner_name}) AS venue,
               CASE WHEN {shared} IS NOT NULL THEN _platform || ':' || {shared} END AS repost_of_id,
               CASE WHEN {reshared_by_surface} AND {owner_id} IS DISTINCT FROM {surface_id}
                    THEN _platform || ':' || ({by_owner}) END AS repost_of_account_id,
               CASE WHEN {reshared_by_surface} AND {owner_id} IS DISTINCT FROM {surface_id}
                    THEN {owner_user} END AS repost_of_handle,
               CASE WHEN {shared} IS NOT NULL THEN 'repost' END AS kind,
               list_distinct(list_concat({links}, {text_urls(text)})) AS urls,
               CASE WHEN len({bracket_list(tags)}) > 0 THEN {bracket_list(tags)} END AS hashtags,
               source_file, source_line, {name} AS _name,
               CASE WHEN {when} IS NULL THEN 'bad date: ' || coalesce({raw_time}, '(empty)') END AS reject_reason,
               CASE WHEN {when} IS NULL THEN concat_ws(',', {", ".join(f'"{c}"' for c in cols[:8])}) END AS raw
        FROM (SELECT *, {platform} AS _platform FROM {scan.source})
    """
    accounts = """
        SELECT account_id, arg_max(handle, created_at) AS handle, arg_max(_name, created_at) AS name
        FROM _records WHERE account_id IS NOT NULL AND reject_reason IS NULL GROUP BY 1
    """
    where = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more files like it)"
    return ReaderOutput(records=records, errors=scan.errors, accounts=accounts, notes=[f"{where}: platform {how}"])
