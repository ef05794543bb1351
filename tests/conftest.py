"""
Hypothesis profiles for the whole suite.

``HYPOTHESIS_PROFILE`` chooses one (or pytest's ``--hypothesis-profile``):

- ``dev``, the default: quick enough to run on every change. It has no
  deadline and no too_slow check: on a loaded machine (a cold bytecode cache,
  a build alongside) they fail tests that are right. The benchmarks time code.
- ``ci``, the default when ``CI=true``: more examples, the same ones on every
  run, no deadline, and a reproduction blob printed with each failure.
- ``thorough``: many examples and no deadline, for a soak before a release.

Tests take their budget from the profile; the few that need more or fewer
examples say why where they set them.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Test doubles that assert get pytest's assertion messages, like tests do.
pytest.register_assert_rewrite("tests.saga_doubles")

PROFILES = ("dev", "ci", "thorough")

settings.register_profile(
    "dev",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    # On top of Hypothesis's own "ci": no example database, no too_slow check.
    settings.get_profile("ci"),
    max_examples=500,
    derandomize=True,
    deadline=None,
    print_blob=True,
)
settings.register_profile("thorough", max_examples=5_000, deadline=None)


def pytest_configure(config: pytest.Config) -> None:
    """Load the profile HYPOTHESIS_PROFILE names, or the one for where we run."""
    if config.getoption("--hypothesis-profile", None):
        return  # Hypothesis's plugin has loaded the one asked for
    default = "ci" if os.environ.get("CI") == "true" else "dev"
    name = os.environ.get("HYPOTHESIS_PROFILE", default)
    if name not in PROFILES:
        message = (
            f"HYPOTHESIS_PROFILE={name!r} names no profile of this suite; "
            f"set it to one of {', '.join(PROFILES)}, or unset it"
        )
        raise pytest.UsageError(message)
    settings.load_profile(name)
