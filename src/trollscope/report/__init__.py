"""The self-contained HTML report: every figure from the workspace, charts and tables inlined."""

from .build import ReportResult, build_report, collect, investigate_all, render

__all__ = ["ReportResult", "build_report", "collect", "investigate_all", "render"]
