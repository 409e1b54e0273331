"""Investigate an operation: when it began, which side(s) it took, what it pushed, who amplified it.

Each function takes a workspace, the operation (``accounts``: ``flagged``, ``label:COLUMN=VALUE``,
``all`` or a file of handles/ids) and comparison groups (``by``: ``label:COLUMN`` or ``cluster``),
and returns a result holding Arrow tables, the parameters, notes on what could not be measured,
and a Vega-Lite chart — the same frames the CLI prints.
"""

from .amplifiers import AmplifiersResult, amplifiers
from .narratives import NarrativesResult, narratives, parse_terms
from .result import Result
from .selection import Operation, SelectionError, open_operation, select_operation
from .targeting import TargetingResult, both_sides_index, load_candidates, load_lexicon, targeting
from .timeline import TimelineResult, load_events, timeline

__all__ = [
    "AmplifiersResult",
    "NarrativesResult",
    "Operation",
    "Result",
    "SelectionError",
    "TargetingResult",
    "TimelineResult",
    "amplifiers",
    "both_sides_index",
    "load_candidates",
    "load_events",
    "load_lexicon",
    "narratives",
    "open_operation",
    "parse_terms",
    "select_operation",
    "targeting",
    "timeline",
]
