"""The workbench's downloads: the graph in view as GEXF (Gephi) and any list of rows as CSV."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

NODE_ATTRS = (
    ("handle", "string"),
    ("cluster", "integer"),
    ("score", "double"),
    ("posts", "integer"),
    ("label", "string"),
)
EDGE_ATTRS = (("layer", "string"), ("p_value", "double"), ("q_value", "double"), ("evidence", "integer"))


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return "" if v is None else str(v)


def gexf(graph: dict) -> bytes:
    """GEXF 1.3 of a ``Workbench.graph`` answer: one edge per layer and pair, weighted by co-actions."""
    root = ET.Element("gexf", xmlns="http://gexf.net/1.3", version="1.3")
    meta = ET.SubElement(root, "meta")
    desc = f"trollscope coordination graph; cluster={graph.get('cluster')}, layer={graph.get('layer')}, "
    ET.SubElement(meta, "description").text = desc + f"min_weight={graph.get('min_weight')}"
    g = ET.SubElement(root, "graph", defaultedgetype="undirected", mode="static")
    for cls, attrs in (("node", NODE_ATTRS), ("edge", EDGE_ATTRS)):
        el = ET.SubElement(g, "attributes", {"class": cls})
        for i, (name, typ) in enumerate(attrs):
            ET.SubElement(el, "attribute", id=str(i), title=name, type=typ)
    nodes = ET.SubElement(g, "nodes")
    for n in graph["nodes"]:
        el = ET.SubElement(nodes, "node", id=n["id"], label=n.get("handle") or n["id"])
        av = ET.SubElement(el, "attvalues")
        for i, (name, _) in enumerate(NODE_ATTRS):
            if n.get(name) is not None:
                ET.SubElement(av, "attvalue", {"for": str(i), "value": _text(n[name])})
    edges = ET.SubElement(g, "edges")
    for j, e in enumerate(graph["edges"]):
        el = ET.SubElement(edges, "edge", id=str(j), source=e["source"], target=e["target"],
                           weight=_text(float(e["weight"])), label=e["layer"])  # fmt: skip
        av = ET.SubElement(el, "attvalues")
        for i, (name, _) in enumerate(EDGE_ATTRS):
            if e.get(name) is not None:
                ET.SubElement(av, "attvalue", {"for": str(i), "value": _text(e[name])})
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_csv(rows: list[dict], columns: list[str] | None = None) -> bytes:
    """Rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read non-ASCII text right).

    A cell starting with ``= + - @`` is prefixed with ``'`` so a spreadsheet shows a post's text
    instead of running it as a formula (CSV injection).
    """
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _cell(v: object) -> str:
    if isinstance(v, list):
        v = ";".join(_text(x) for x in v)
    s = _text(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(s) else s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
