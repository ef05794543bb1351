"""Tests of the integrations, against the real systems they integrate."""
