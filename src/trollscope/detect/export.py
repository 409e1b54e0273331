"""The coordination graph for Gephi and friends: GraphML and GEXF, written with the standard library.

Nodes are the accounts with at least one significant edge (and every flagged account), with
``handle``, ``cluster`` (0 = none), ``score``, ``flagged`` and ``known_label`` (the account's known
labels, ``key=value; …``, e.g. the IRA's ``account_category``). Edges are undirected, one per pair:
``weight`` (the pair's summed surprise, as clustering used it), ``layers`` and one ``w_<layer>``
attribute per layer holding that layer's co-action count (0 where the layer does not tie them).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa

from ..engine import connect
from ..workspace import Workspace
from .clusters import SURPRISE_CAP
from .layers import LAYERS
from .run import DetectError


def graph(workspace: str | Path | Workspace | None = None) -> tuple[list[dict], list[dict], list[str]]:
    """``(nodes, edges, layers)`` of the last detection run's significant graph."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace, create=False)
    if not ws.has("edges"):
        raise DetectError(f"{ws.path} has no detection results: run `trollscope detect -w {ws.path}` first")
    weights = (ws.params("detect") or {}).get("layer_weights", {})
    con = ws.connect(connect())
    try:
        edges = con.sql(
            "SELECT layer, account_a, account_b, count, p_value FROM edges WHERE significant "
            "ORDER BY account_a, account_b, layer"
        ).to_arrow_table()
        nodes = con.sql(
            """WITH ids AS (SELECT account_a AS account_id FROM edges WHERE significant
                            UNION SELECT account_b FROM edges WHERE significant
                            UNION SELECT account_id FROM account_scores WHERE flagged)
            SELECT s.account_id, s.handle, coalesce(s.cluster_id, 0) AS cluster, s.score, s.flagged,
                   array_to_string(list_sort(list_transform(map_entries(a.labels), lambda e: e.key || '=' || e.value)),
                                   '; ') AS label
            FROM account_scores s SEMI JOIN ids ON ids.account_id = s.account_id
            LEFT JOIN accounts a ON a.account_id = s.account_id ORDER BY s.account_id"""
        ).to_arrow_table()
    finally:
        con.close()
    pairs: dict[tuple[str, str], dict] = {}
    for r in edges.to_pylist():
        e = pairs.setdefault((r["account_a"], r["account_b"]), {"source": r["account_a"], "target": r["account_b"],
                                                                "weight": 0.0, "layers": []})  # fmt: skip
        surprise = min(-math.log10(max(r["p_value"], 1e-300)), SURPRISE_CAP)
        e["weight"] += weights.get(r["layer"], 1.0) * surprise
        e["layers"].append(r["layer"])
        e["w_" + r["layer"]] = r["count"]
    used = [x for x in LAYERS if any(x in e["layers"] for e in pairs.values())]
    for e in pairs.values():
        e["layers"] = ",".join(e["layers"])
        for x in used:
            e.setdefault("w_" + x, 0)
    return _rows(nodes), list(pairs.values()), used


def _rows(t: pa.Table) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "label"} | {"known_label": r["label"] or ""} for r in t.to_pylist()]


_NODE_ATTRS = [
    ("handle", "string"),
    ("cluster", "int"),
    ("score", "double"),
    ("flagged", "boolean"),
    ("known_label", "string"),
]


def _edge_attrs(layers: list[str]) -> list[tuple[str, str]]:
    return [("weight", "double"), ("layers", "string")] + [("w_" + x, "int") for x in layers]


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return "" if v is None else str(v)


def write_graphml(workspace: str | Path | Workspace | None, path: str | Path) -> dict:
    """Write the graph as GraphML; returns node and edge counts."""
    nodes, edges, layers = graph(workspace)
    ns = "http://graphml.graphdrawing.org/xmlns"
    root = ET.Element("graphml", xmlns=ns)
    for name, typ in _NODE_ATTRS:
        ET.SubElement(root, "key", {"id": name, "for": "node", "attr.name": name, "attr.type": typ})
    for name, typ in _edge_attrs(layers):
        ET.SubElement(root, "key", {"id": "e_" + name, "for": "edge", "attr.name": name, "attr.type": typ})
    g = ET.SubElement(root, "graph", id="coordination", edgedefault="undirected")
    for n in nodes:
        el = ET.SubElement(g, "node", id=n["account_id"])
        for name, _ in _NODE_ATTRS:
            ET.SubElement(el, "data", key=name).text = _text(n[name])
    for i, e in enumerate(edges):
        el = ET.SubElement(g, "edge", id=f"e{i}", source=e["source"], target=e["target"])
        for name, _ in _edge_attrs(layers):
            ET.SubElement(el, "data", key="e_" + name).text = _text(e[name])
    _save(root, path)
    return {"path": str(path), "nodes": len(nodes), "edges": len(edges), "layers": layers}


def write_gexf(workspace: str | Path | Workspace | None, path: str | Path) -> dict:
    """Write the graph as GEXF 1.3 (Gephi's own format); returns node and edge counts."""
    nodes, edges, layers = graph(workspace)
    root = ET.Element("gexf", xmlns="http://gexf.net/1.3", version="1.3")
    g = ET.SubElement(root, "graph", defaultedgetype="undirected", mode="static")
    gexf_type = {"string": "string", "int": "integer", "double": "double", "boolean": "boolean"}
    na = ET.SubElement(g, "attributes", {"class": "node"})
    for i, (name, typ) in enumerate(_NODE_ATTRS):
        ET.SubElement(na, "attribute", id=str(i), title=name, type=gexf_type[typ])
    edge_attrs = _edge_attrs(layers)[1:]  # weight is GEXF's own edge attribute
    ea = ET.SubElement(g, "attributes", {"class": "edge"})
    for i, (name, typ) in enumerate(edge_attrs):
        ET.SubElement(ea, "attribute", id=str(i), title=name, type=gexf_type[typ])
    ns = ET.SubElement(g, "nodes")
    for n in nodes:
        el = ET.SubElement(ns, "node", id=n["account_id"], label=n["handle"] or n["account_id"])
        av = ET.SubElement(el, "attvalues")
        for i, (name, _) in enumerate(_NODE_ATTRS):
            ET.SubElement(av, "attvalue", {"for": str(i), "value": _text(n[name])})
    es = ET.SubElement(g, "edges")
    for j, e in enumerate(edges):
        el = ET.SubElement(es, "edge", id=str(j), source=e["source"], target=e["target"], weight=_text(e["weight"]))
        av = ET.SubElement(el, "attvalues")
        for i, (name, _) in enumerate(edge_attrs):
            ET.SubElement(av, "attvalue", {"for": str(i), "value": _text(e[name])})
    _save(root, path)
    return {"path": str(path), "nodes": len(nodes), "edges": len(edges), "layers": layers}


def _save(root: ET.Element, path: str | Path) -> None:
    ET.indent(root)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
