"""Coordination detection: who acts in concert, tested against chance.

``detect(workspace, layers=..., window=..., alpha=...)`` builds co-action layers (layers.py), keeps
the edges that beat each layer's null model (significance.py), clusters them with Leiden and
gathers each cluster's evidence (clusters.py), and writes the result tables to the workspace.
``evaluate`` scores a run against known labels; ``write_graphml`` / ``write_gexf`` export it for
Gephi. See docs/detection.md.
"""

from __future__ import annotations

from .evaluate import evaluate
from .export import write_gexf, write_graphml
from .layers import LAYERS, WINDOWED
from .run import DetectError, DetectionResult, DetectParams, detect, load

__all__ = [
    "LAYERS",
    "WINDOWED",
    "DetectError",
    "DetectParams",
    "DetectionResult",
    "detect",
    "evaluate",
    "load",
    "write_gexf",
    "write_graphml",
]
