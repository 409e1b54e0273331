"""The investigation workbench: a local, read-only web app over a workspace (``trollscope serve``)."""

from .app import create_app, serve
from .data import GraphQuery, NotFound, PostQuery, Workbench

__all__ = ["GraphQuery", "NotFound", "PostQuery", "Workbench", "create_app", "serve"]
