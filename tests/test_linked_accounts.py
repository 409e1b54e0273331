"""Accounts the user links to one actor (``ingest --links``) are never tested as a pair, in any layer."""

from __future__ import annotations

import pytest

import trollscope as ts
from trollscope.detect import detect
from trollscope.simulate_crossplatform import crossplatform_collection


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Detection (every layer) on the simulated cross-platform operation, with and without the hub
    channel and one of the operation's Twitter accounts linked to one actor."""
    root = tmp_path_factory.mktemp("linked")
    collection = crossplatform_collection(root / "data", seed=3)
    hub, first = collection.operation[0], collection.operation[6]
    links = root / "links.csv"
    links.write_text(f"account_id,actor\n{hub},Truth Now\n{first},Truth Now\n")
    ts.ingest(str(collection.folder), root / "plain")
    ts.ingest(str(collection.folder), root / "linked", options=ts.ReadOptions(links=str(links)))
    kw = dict(write=False, keep_edges=1)
    return collection, (hub, first), detect(root / "plain", **kw), detect(root / "linked", **kw)


def _pairs(r, significant: bool = False) -> dict[str, set[frozenset]]:
    out: dict[str, set[frozenset]] = {}
    for e in r.edges.to_pylist():
        if e["significant"] or not significant:
            out.setdefault(e["layer"], set()).add(frozenset((e["account_a"], e["account_b"])))
    return out


def test_a_linked_actors_own_accounts_are_no_pair_in_any_layer(runs) -> None:
    _, (hub, first), plain, linked = runs
    own = frozenset((hub, first))
    # Unlinked, the hub and the account are a significant pair in the within-platform layers too
    # (the same campaign links within minutes): the case the links are for.
    within = {layer for layer, pairs in _pairs(plain, significant=True).items() if own in pairs}
    assert within - {"cross-platform"}, within
    assert not any(own in pairs for pairs in _pairs(linked).values())  # not even a tested, unkept pair


def test_every_other_pair_and_the_operation_stay_found(runs) -> None:
    collection, (hub, first), plain, linked = runs
    own = frozenset((hub, first))
    before, after = _pairs(plain, significant=True), _pairs(linked, significant=True)
    lost = {layer: before[layer] - after.get(layer, set()) for layer in before}
    assert all(pairs <= {own} for pairs in lost.values()), lost
    flagged = lambda r: {a["account_id"] for a in r.accounts.to_pylist() if a["flagged"]}  # noqa: E731
    assert flagged(linked) == flagged(plain) == set(collection.operation)  # the two still act with the rest
