"""The four investigations on real IRA tweets, checked against counts made with Python's csv and
gzip modules straight from the shared files (never from trollscope's output).

30 authors are ingested: the first 12 LeftTroll and 12 RightTroll accounts (by author id) that
have a tweet file, the RightTroll persona Politweecs, and 6 others (Fearmonger, Unknown and
NonEnglish accounts, some of which mention Politweecs)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
from collections import Counter, defaultdict
from importlib import resources

import pytest
from conftest import SHARED

from trollscope.ingest import ingest
from trollscope.investigate import amplifiers, narratives, targeting, timeline

pytestmark = pytest.mark.real_data

OTHERS = ["ChrisChrisChCh", "CaitlinMillsYup", "Bert_Henley", "CharlesDailey87", "1488reasons", "459Jisalge"]
TALKED_TO = ["Politweecs"]  # a RightTroll persona that the Fearmonger and Unknown accounts above mention
OP = "label:account_category=LeftTroll,RightTroll"
BY = "label:account_category"


@pytest.fixture(scope="module")
def ira(tmp_path_factory):
    """(workspace, {category: [rows]}) for the chosen authors; rows as csv.DictReader gives them."""
    root = SHARED / "ira-by-author"
    with open(root / "authors.csv", newline="", encoding="utf-8") as fh:
        authors = list(csv.DictReader(fh))
    category = {a["author_id"]: a["account_category"] for a in authors}
    files = {p.name[: -len(".csv.gz")]: p for p in root.glob("*/*.csv.gz")}
    chosen = []
    for cat in ("LeftTroll", "RightTroll"):
        chosen += sorted(a for a, c in category.items() if c == cat and a in files)[:12]
    chosen += TALKED_TO + OTHERS
    rows: dict[str, list[dict]] = defaultdict(list)
    seen = set()
    for a in chosen:
        with gzip.open(files[a], "rt", newline="", encoding="utf-8") as fh:
            for x in csv.DictReader(fh):
                key = (x["author_id"], when(x["publish_date"]), x["content"])
                if key not in seen:  # ingest stores a repeated (account, time, text) record once
                    seen.add(key)
                    rows[category[a]].append(x)
    ws = tmp_path_factory.mktemp("ira") / "ws"
    result = ingest([str(files[a]) for a in chosen], ws)
    assert result.stored == sum(len(v) for v in rows.values()) == result.records - result.duplicate
    return ws, rows


def when(s: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise ValueError(s)


def test_onset_before_and_weekly_volume(ira):
    ws, rows = ira
    r = timeline(ws, OP, BY, freq="week", before="2015-06-16")
    onset = {o["grp"]: o for o in r.onset.to_pylist()}
    before = {b["grp"]: b for b in r.before.to_pylist()}
    cut = dt.datetime(2015, 6, 16)
    for cat in ("LeftTroll", "RightTroll"):
        times = [when(x["publish_date"]) for x in rows[cat]]
        assert onset[cat]["first_post"] == min(times)
        assert onset[cat]["posts"] == len(times)
        assert before[cat]["posts_before"] == sum(t < cut for t in times)
        weeks = Counter(dt.datetime.combine(t.date() - dt.timedelta(days=t.weekday()), dt.time()) for t in times)
        got = {v["period"]: v["posts"] for v in r.volume.to_pylist() if v["grp"] == cat and v["posts"]}
        assert got == dict(weeks)
    assert set(onset) == {"LeftTroll", "RightTroll"}


BLM = re.compile(r"(?<!\w)#?(?:blacklivesmatter|black[\s_-]*lives[\s_-]*matter)(?!\w)", re.IGNORECASE)


def test_narrative_counts_per_category(ira):
    ws, rows = ira
    r = narratives(ws, OP, BY, terms="blacklivesmatter|black lives matter,nobodysaysthisword")
    got = {(g["term"], g["grp"]): g for g in r.by_group.to_pylist()}
    for cat in ("LeftTroll", "RightTroll"):
        hits = [x for x in rows[cat] if BLM.search(x["content"])]
        assert got[("blacklivesmatter", cat)]["posts"] == len(hits)
        assert got[("blacklivesmatter", cat)]["first_use"] == min(when(x["publish_date"]) for x in hits)
    outside = sum(
        1 for cat in rows if cat not in ("LeftTroll", "RightTroll") for x in rows[cat] if BLM.search(x["content"])
    )
    t = {x["term"]: x for x in r.terms.to_pylist()}
    assert t["blacklivesmatter"]["outside_posts"] == outside
    assert t["nobodysaysthisword"]["verdict"] == "nobody in this workspace used it"


def _side_regex(terms: list[str]) -> re.Pattern:
    alts = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in terms)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def test_partisan_counts_per_category(ira):
    ws, rows = ira
    text = resources.files("trollscope").joinpath("data", "lexicon_partisan.csv").read_text(encoding="utf-8")
    lex = list(csv.DictReader(text.splitlines()))
    tags = {s: {e["term"].lower() for e in lex if e["side"] == s and e["kind"] == "hashtag"} for s in ("left", "right")}
    terms = {s: _side_regex([e["term"] for e in lex if e["side"] == s and e["kind"] == "term"]) for s in tags}
    r = targeting(ws, OP, BY, sentiment=False)
    got = {g["grp"]: g for g in r.groups.to_pylist()}
    for cat in ("LeftTroll", "RightTroll"):
        counts = Counter()
        for x in rows[cat]:
            hashtags = {h.lower() for h in re.findall(r"#(\w+)", x["content"])}
            left = bool(hashtags & tags["left"]) or bool(terms["left"].search(x["content"]))
            right = bool(hashtags & tags["right"]) or bool(terms["right"].search(x["content"]))
            counts[
                "left" if left and not right else "right" if right and not left else "mixed" if left else "none"
            ] += 1
        assert (got[cat]["left_posts"], got[cat]["right_posts"], got[cat]["mixed_posts"]) == (
            counts["left"],
            counts["right"],
            counts["mixed"],
        )
    # the lexicon separates the two categories: LeftTroll leans left, RightTroll right
    assert got["LeftTroll"]["lean"] < 0 < got["RightTroll"]["lean"]


RT = re.compile(r"^RT @([A-Za-z0-9_]{1,50}):")
MENTION = re.compile(r"(?:^|[^\w@])@([A-Za-z0-9_]{1,15})")


def test_outbound_amplification_of_right_trolls(ira):
    ws, rows = ira
    r = amplifiers(ws, "label:account_category=RightTroll", top=10)
    op_ids = {x["author_id"] for x in rows["RightTroll"]}
    known = {x["author_id"].lower(): x["author_id"] for cat in rows for x in rows[cat]}
    expected: Counter = Counter()
    for x in rows["RightTroll"]:
        src = x["author_id"]
        acts = {}
        m = RT.match(x["content"])
        if m:
            acts[known.get(m.group(1).lower(), "@" + m.group(1).lower())] = "repost"
        for h in MENTION.findall(x["content"]):
            acts.setdefault(known.get(h.lower(), "@" + h.lower()), "mention")
        for target in acts:
            if target != src and target not in op_ids:
                expected[target] += 1
    got = {o["target"]: o["total"] for o in r.outbound.to_pylist()}
    for target, n in expected.most_common(10):
        assert got[target] == n, target
    assert r.summary["outbound"]["posts"] == sum(expected.values())
    # inbound: the other accounts' reposts and mentions of RightTroll personas
    by_lower = {a.lower(): a for a in op_ids}
    inbound: Counter = Counter()
    for cat in rows:
        for x in rows[cat] if cat != "RightTroll" else []:
            m = RT.match(x["content"])
            targets = {by_lower.get(m.group(1).lower())} if m else set()
            targets |= {by_lower.get(h.lower()) for h in MENTION.findall(x["content"])}
            inbound[x["author_id"]] += len(targets - {None})
    inbound = +inbound
    assert inbound, "the chosen accounts should talk to the RightTroll persona"
    assert {a["handle"]: a["total"] for a in r.inbound.to_pylist()} == dict(inbound)
