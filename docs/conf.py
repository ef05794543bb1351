"""Sphinx configuration for the outcome documentation."""

from __future__ import annotations

import doctest
import inspect
import re
from importlib.metadata import version as _distribution_version
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util import logging

import outcome
import outcome.testing

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

_LOGGER = logging.getLogger(__name__)

project = "outcome"
author = "outcome developers"
copyright = "outcome developers"
release = _distribution_version("outcome-kit")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# In docstrings, `Ok` is a cross-reference to the API entry, not italic text.
default_role = "py:obj"

myst_enable_extensions = ["colon_fence", "deflist"]
# Anchors for headings down to ###, so pages can link to each other's sections.
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Show `Result[T, E]` in signatures rather than its expansion, `Ok[T] | Err[E]`.
autodoc_type_aliases = {
    "Result": "outcome.Result",
    "Path": "outcome.Path",
    "PathInput": "outcome.PathInput",
}

napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Every example on these pages, and in the docstrings the API page pulls in, runs
# under `make docs`. Exception messages are compared too (Sphinx ignores them by
# default), because what the library says on failure is part of its contract.
doctest_global_setup = "from outcome import *"
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
)

html_theme = "furo"
html_title = f"outcome {release}"


# api.md lists each class's members by hand, grouped and in source order: autodoc
# cannot order them itself, because every public object reports
# `__module__ == "outcome"` and so autodoc reads the source of `outcome/__init__.py`,
# which only re-exports. So that a new public name cannot be left out silently,
# the build fails unless every name in `outcome.__all__`, and every public member
# of the classes among them, has an entry somewhere in these docs.
def _check_api_is_documented(_app: Sphinx, env: BuildEnvironment) -> None:
    documented = set(env.domains.python_domain.objects)
    expected: list[str] = []
    for module in (outcome, outcome.testing):
        for name in module.__all__:
            expected.append(f"{module.__name__}.{name}")
            obj = getattr(module, name)
            if inspect.isclass(obj):
                expected.extend(
                    f"{module.__name__}.{name}.{member}"
                    for member in vars(obj)
                    if not member.startswith("_")
                )
    for name in expected:
        if name not in documented:
            _LOGGER.warning(
                "%s is public but not documented; add it to docs/api.md", name
            )


# The guides name the API in plain code, `Errors.merge` rather than a Sphinx role,
# so that they read as well on a code host as here. In the HTML, such code is a
# link to the name's entry in the API reference, when it has one.
_CODE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NAMESPACES = ("", "outcome.", "outcome.testing.")


def _link_code_to_api(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    objects = app.env.domains.python_domain.objects
    for literal in list(doctree.findall(nodes.literal)):
        text = literal.astext()
        if _CODE_NAME.fullmatch(text) is None or _in_link_or_title(literal):
            continue
        name = next(
            (f"{ns}{text}" for ns in _NAMESPACES if f"{ns}{text}" in objects), ""
        )
        if not name.startswith("outcome."):
            continue
        entry = objects[name]
        uri = app.builder.get_relative_uri(docname, entry.docname)
        link = nodes.reference("", "", internal=True, refuri=f"{uri}#{entry.node_id}")
        literal.replace_self(link)
        link.append(literal)


def _in_link_or_title(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (nodes.reference, nodes.title)):
            return True
        parent = parent.parent
    return False


def setup(app: Sphinx) -> None:
    """Register the check that the API reference is complete, and the code links."""
    app.connect("env-check-consistency", _check_api_is_documented)
    app.connect("doctree-resolved", _link_code_to_api)
