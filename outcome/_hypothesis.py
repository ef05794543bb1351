"""The Hypothesis plugin: registers strategies for outcome's types."""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    """Register the strategies; Hypothesis calls this through its entry point."""
