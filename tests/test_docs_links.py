"""docs/conf.py turns the guides' plain code names into links to the API reference."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from docutils import nodes
from docutils.core import publish_doctree
from sphinx.domains.python import ObjectEntry

CONF = Path(__file__).resolve().parent.parent / "docs" / "conf.py"


@pytest.fixture(scope="module")
def conf() -> ModuleType:
    """docs/conf.py, imported as a module of its own."""
    spec = importlib.util.spec_from_file_location("docs_conf", CONF)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(conf: ModuleType, text: str, builder_format: str = "html") -> nodes.document:
    """Parse reST `text` and link it as the html builder would, from guide.md."""
    return link(conf, publish_doctree(text), builder_format)


def link(
    conf: ModuleType, doctree: nodes.document, builder_format: str = "html"
) -> nodes.document:
    """Link the code of `doctree`, with the API entries of a small reference page."""
    objects = {
        name: ObjectEntry("api", name, "class", aliased=False)
        for name in ["outcome.Errors", "outcome.Errors.merge", "outcome.testing.oks"]
    }
    app = SimpleNamespace(
        builder=SimpleNamespace(
            format=builder_format, get_relative_uri=lambda _from, to: f"{to}.html"
        ),
        env=SimpleNamespace(
            domains=SimpleNamespace(python_domain=SimpleNamespace(objects=objects))
        ),
    )
    conf._link_code_to_api(app, doctree, "guide")
    return doctree


def links(doctree: nodes.document) -> dict[str, str]:
    """The code that became a link, and where each link goes."""
    return {
        reference.astext(): reference["refuri"]
        for reference in doctree.findall(nodes.reference)
    }


def test_api_names_link_to_their_entries(conf: ModuleType) -> None:
    """A class, a method and a name of outcome.testing link to the API page."""
    doctree = build(conf, "See ``Errors``, ``Errors.merge`` and ``oks``.")

    assert links(doctree) == {
        "Errors": "api.html#outcome.Errors",
        "Errors.merge": "api.html#outcome.Errors.merge",
        "oks": "api.html#outcome.testing.oks",
    }


def test_other_code_is_left_alone(conf: ModuleType) -> None:
    """Code that is no documented name, or not a bare name, stays plain code."""
    doctree = build(conf, "``merge``, ``Errors()``, ``Errors.nope`` and ``x = 1``.")

    assert links(doctree) == {}
    assert len(list(doctree.findall(nodes.literal))) == 4


def test_code_in_a_title_is_left_alone(conf: ModuleType) -> None:
    """No link in a heading: it would land in the table of contents."""
    doctree = build(conf, "``Errors``\n==========\n\nText.\n")

    assert links(doctree) == {}
    assert next(doctree.findall(nodes.title)).astext() == "Errors"


def test_code_in_a_link_is_left_alone(conf: ModuleType) -> None:
    """Code that is already a link, as a Markdown link makes it, keeps its target."""
    doctree = publish_doctree("`Errors`__\n\n__ https://example.org/errors\n")
    reference = next(doctree.findall(nodes.reference))
    reference.children = []
    reference.append(nodes.literal("", "Errors"))

    assert links(link(conf, doctree)) == {"Errors": "https://example.org/errors"}


def test_only_html_gets_links(conf: ModuleType) -> None:
    """The doctest builder, for one, sees the doctree as it was."""
    doctree = build(conf, "See ``Errors``.", builder_format="text")

    assert links(doctree) == {}
