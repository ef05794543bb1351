"""
Runs the ```python blocks of README.md and docs/*.md, with Sybil.

Each page's blocks run in order in one namespace, which starts, as the Sphinx
doctests do, with `from outcome import *`. A block that cannot run on its own (a
fragment, or one that needs credentials) follows the line `<!-- skip: next -->`.
The ```{doctest} blocks are run by `make docs`, not here.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from sybil import Sybil
from sybil.integration.pytest import SybilItem
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser

import outcome

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, Traceback

# conf.py is Sphinx's, and docs/_build holds what the docs build and the docs'
# type check write, including modules that must not be imported as tests.
collect_ignore = ["docs/conf.py", "docs/_build"]


def _start_like_the_doctests(namespace: dict[str, Any]) -> None:
    namespace["__name__"] = "__docs__"
    # Libraries that look a class up by its module (Strawberry does) find one.
    sys.modules.setdefault("__docs__", types.ModuleType("__docs__"))
    namespace.update({name: getattr(outcome, name) for name in outcome.__all__})


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["README.md", "docs/*.md"],
    setup=_start_like_the_doctests,
).pytest()


_sybil_traceback_filter = SybilItem._traceback_filter  # noqa: SLF001 - patched below


def _traceback_filter(
    self: SybilItem, excinfo: ExceptionInfo[BaseException]
) -> Traceback:
    # Sybil 10.1 starts each traceback of a failure below its own frames, and
    # raises IndexError, ending the whole run, for an exception raised while
    # handling another: that one's traceback holds no frame of Sybil's.
    try:
        return _sybil_traceback_filter(self, excinfo)
    except IndexError:
        return excinfo.traceback


SybilItem._traceback_filter = _traceback_filter  # type: ignore[method-assign]  # noqa: SLF001
