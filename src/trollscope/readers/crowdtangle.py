"""Facebook and Instagram posts as CrowdTangle's dashboard exported them (CSV, one post a row).

No real export was at hand: the reader follows the columns CrowdTangle documented for its
"Download" CSVs (``Page Name``/``Group Name``, ``User Name``, ``Facebook Id``, ``Post Created``,
``Type``, ``URL``, ``Message``, ``Link``, ``Final Link``… for Facebook; ``Account``,
``User Name``, ``Post Created``, ``URL``, ``Description``, ``Link`` for Instagram), and its test
fixture is written from them. An Instagram export is told apart by its ``Account`` column.

Mapping:

- ``post_id`` is ``facebook:<URL>`` / ``instagram:<URL>`` (the post's address; the CSV has no
  post id). The account is the page, group or Instagram account that posted:
  ``facebook:<Facebook Id>`` (else its user name) or ``instagram:<user name>``; the venue is the
  page's, group's or account's name.
- ``Post Created`` is local time with a zone abbreviation (``2021-01-05 17:04:01 EST``, the zone
  the dashboard was set to), converted to UTC.
- Text is ``Message`` (Facebook) or ``Description`` (Instagram); links are ``Link`` and
  ``Final Link`` (the link after redirects) and the links in the text: the links CooRnet-style
  co-link sharing looks at.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from . import ReaderOutput, ReadOptions
from ._json import text_urls
from ._scan import header, layout, named_csv, sql_str
from .generic import _zoned

NAME = "crowdtangle"
PLATFORM = "facebook"
__all__ = ["NAME", "PLATFORM", "detect", "layout", "read"]


def detect(head: str, path: Path) -> bool:
    cols = set(header(head))
    return "Post Created" in cols and "URL" in cols and bool(cols & {"Page Name", "Group Name", "Account"})


def read(con: duckdb.DuckDBPyConnection, files: list[str], opts: ReadOptions) -> ReaderOutput:
    scan = named_csv(con, files, encoding=opts.encoding, strict=opts.strict)
    cols, have, col = scan.columns, set(scan.columns), scan.col
    instagram = "Account" in have and not have & {"Page Name", "Group Name"}
    platform = "instagram" if instagram else "facebook"
    venue = col("Page Name", "Group Name", "Account")
    user = col("User Name")
    account = f"lower({user})" if instagram else col("Facebook Id", "User Name")
    text = f"coalesce({col('Message', 'Description')}, '')"
    links = f"list_filter([{col('Link')}, {col('Final Link')}], lambda u: u IS NOT NULL)"
    when = _zoned(col("Post Created"), "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M']")
    records = f"""
        SELECT {sql_str(platform)} || ':' || {col("URL")} AS post_id,
               {sql_str(platform)} || ':' || {account} AS account_id, coalesce({user}, {venue}) AS handle,
               {when} AS created_at, {text} AS text, {sql_str(platform)} AS platform, {venue} AS venue,
               list_distinct(list_concat({links}, {text_urls(text)})) AS urls,
               source_file, source_line, {venue} AS _name, {col("Page Description")} AS _description,
               try_cast(replace({col("Followers at Posting")}, ',', '') AS BIGINT) AS _followers,
               CASE WHEN {when} IS NULL THEN 'bad date: ' || coalesce({col("Post Created")}, '(empty)') END AS reject_reason,
               CASE WHEN {when} IS NULL THEN concat_ws(',', {", ".join(f'"{c}"' for c in cols[:8])}) END AS raw
        FROM {scan.source}
    """
    accounts = """
        SELECT account_id, arg_max(handle, created_at) AS handle, arg_max(_name, created_at) AS name,
               arg_max(_description, created_at) AS description, arg_max(_followers, created_at) AS followers
        FROM _records WHERE account_id IS NOT NULL AND reject_reason IS NULL GROUP BY 1
    """
    return ReaderOutput(records=records, errors=scan.errors, accounts=accounts)
