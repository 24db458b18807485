"""Scribe Workbench: state, people and UI around the pipelines."""

__version__ = "0.1.0"
