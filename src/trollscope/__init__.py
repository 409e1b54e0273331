"""trollscope: find and examine coordinated influence operations in social-media data.

The public API returns data (Arrow tables, dataclasses, dicts); the ``trollscope`` command prints it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .info import info
from .ingest import IngestResult, ingest
from .readers import ReadOptions
from .workspace import Workspace, WorkspaceError

__all__ = ["IngestResult", "ReadOptions", "Workspace", "WorkspaceError", "__version__", "info", "ingest"]
