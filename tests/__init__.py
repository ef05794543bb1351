"""Tests for outcome: one module per module of the package."""
