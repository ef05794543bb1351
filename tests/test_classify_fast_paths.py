"""
The classifier's fast paths decide as the general paths they stand in for.

Each fast path is checked against the path it shortcuts, on real client
objects, and so is the fallback taken when the fast path's guard fails.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outcome import classify
from outcome._classify import facts as facts_module
from outcome._classify import rules as rules_module

header_names = st.sampled_from(
    [
        *sorted(rules_module._READ_HEADERS),
        "Retry-After",
        "X-Should-Retry",
        "RETRY-AFTER-MS",
        "date",
        "content-type",
    ]
)
header_values = st.binary(max_size=12) | st.sampled_from(
    [b"2", b" 1.5 ", b"true", b"FALSE", "\u00e9t\u00e9".encode(), b"\xff"]
)


class HTTPError(Exception):
    """An exception with any of the attributes the rules read."""

    def __init__(self, **attributes: object) -> None:
        super().__init__("failed")
        self.__dict__.update(attributes)


class Response:
    """A response object as the clients have: a status, headers and a read body."""

    def __init__(
        self, status_code: object = None, headers: object = None, content: object = None
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self._content = content


class Namespace(dict[str, object]):
    """An instance namespace that is a dict of another class."""


def fresh_header_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget how each header class is read, so that it is worked out again."""
    monkeypatch.setattr(facts_module, "_HEADER_CLASSES", {})


def by_raw(headers: httpx.Headers) -> facts_module._HeaderTable | None:
    """What the general path, by httpx's ``raw`` pairs, reads."""
    return facts_module._raw_table(headers)


class TestHttpxHeaders:
    """httpx's own Headers are read from ``_list``, as ``raw`` would give them."""

    def test_httpx_headers_are_read_by_their_list(self) -> None:
        """The class httpx exports, with its own properties, gets the list reader."""
        table_of, caseless = facts_module._header_class(httpx.Headers)
        assert table_of is not facts_module._raw_table
        assert table_of is not None
        assert caseless

    @given(st.lists(st.tuples(header_names, header_values), max_size=8))
    def test_the_list_reader_reads_as_raw_does(
        self, pairs: list[tuple[str, bytes]]
    ) -> None:
        """Any names, repeats and encodings: the same table as by ``raw``."""
        headers = httpx.Headers([(name.encode(), value) for name, value in pairs])
        table_of, _ = facts_module._header_class(httpx.Headers)
        assert table_of is not None
        before = table_of(headers)  # encoding not asked yet: read by raw
        assert headers.encoding  # now known, as httpx keeps it
        assert table_of(headers) == by_raw(headers) == before

    def test_repeated_headers_are_joined(self) -> None:
        """Two Retry-After headers are joined, which no number parses."""
        headers = httpx.Headers([("Retry-After", "1"), ("retry-after", "2")])
        assert headers.encoding == "ascii"
        table_of, _ = facts_module._header_class(httpx.Headers)
        assert table_of is not None
        assert table_of(headers) == by_raw(headers) == {"retry-after": "1, 2"}

    def test_too_many_headers_are_left_to_get(self) -> None:
        """More headers than a pass reads: the list reader reads none either."""
        entries = [(f"x-filler-{n}", "1") for n in range(1100)] + [("Retry-After", "3")]
        headers = httpx.Headers(entries)
        assert headers.encoding == "ascii"
        table_of, _ = facts_module._header_class(httpx.Headers)
        assert table_of is not None
        assert table_of(headers) is None
        assert by_raw(headers) is None
        failure = HTTPError(status_code=429, headers=headers)
        assert classify(failure).retry_after == 3.0

    @pytest.mark.parametrize(
        "change", ["no list", "list not a list", "no encoding", "odd namespace"]
    )
    def test_headers_not_as_httpx_keeps_them_are_read_by_raw(self, change: str) -> None:
        """An instance whose ``_list`` or ``_encoding`` is odd: read as by raw."""
        headers = httpx.Headers({"Retry-After": "4"})
        assert headers.encoding == "ascii"
        if change == "no list":
            del headers.__dict__["_list"]
        elif change == "list not a list":
            vars(headers)["_list"] = tuple(headers._list)
        elif change == "no encoding":
            headers._encoding = None
        else:
            headers.__dict__ = Namespace(headers.__dict__)
        table_of, _ = facts_module._header_class(httpx.Headers)
        assert table_of is not None
        if change == "no list":
            with pytest.raises(AttributeError):
                table_of(headers)
        else:
            assert table_of(headers) == by_raw(headers) == {"retry-after": "4"}

    def test_a_raw_changed_after_is_read_by_raw(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """httpx's raw replaced once its reader is made: the new raw decides."""
        table_of, _ = facts_module._header_class(httpx.Headers)
        assert table_of is not None
        headers = httpx.Headers({"Retry-After": "4"})
        assert headers.encoding == "ascii"
        monkeypatch.setattr(
            httpx.Headers, "raw", property(lambda _self: [(b"Retry-After", b"9")])
        )
        assert table_of(headers) == {"retry-after": "9"}
        failure = HTTPError(status_code=429, headers=headers)
        assert classify(failure).retry_after == 9.0

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("raw", property(lambda _self: [(b"Retry-After", b"9")])),
            ("raw", [(b"Retry-After", b"9")]),
            ("encoding", property(lambda _self: "ascii")),
            ("__getattribute__", object.__getattribute__),
        ],
        ids=["raw replaced", "raw not a property", "encoding replaced", "access"],
    )
    def test_a_changed_httpx_is_read_by_raw(
        self, monkeypatch: pytest.MonkeyPatch, name: str, value: object
    ) -> None:
        """A class whose properties or attribute access are not httpx's own."""
        fresh_header_classes(monkeypatch)
        if name == "__getattribute__":

            def getattribute(self: object, key: str) -> Any:
                return object.__getattribute__(self, key)

            value = getattribute  # the same access, by a method of its own
        monkeypatch.setattr(httpx.Headers, name, value)
        assert facts_module._header_class(httpx.Headers) == (
            facts_module._raw_table,
            True,
        )
        headers = httpx.Headers({"Retry-After": "4"})
        expected = 9.0 if name == "raw" else 4.0
        failure = HTTPError(status_code=429, headers=headers)
        assert classify(failure).retry_after == expected

    @pytest.mark.parametrize("change", ["order", "shape", "lower", "construction"])
    def test_a_list_kept_otherwise_is_read_by_raw(
        self, monkeypatch: pytest.MonkeyPatch, change: str
    ) -> None:
        """An httpx keeping its pairs in another order or shape: headers by raw."""
        fresh_header_classes(monkeypatch)
        init = httpx.Headers.__init__

        def reordered(self: httpx.Headers, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if change == "construction":
                raise RuntimeError
            if change == "order":  # (lower, raw, value), which raw reads as such
                self._list = [(lower, key, value) for key, lower, value in self._list]
            elif change == "lower":  # names matched as they were sent
                self._list = [(key, key, value) for key, _, value in self._list]
            else:
                vars(self)["_list"] = tuple(self._list)

        def raw(self: httpx.Headers) -> list[tuple[bytes, bytes]]:
            return [(key, value) for _, key, value in self._list]

        raw.__module__, raw.__qualname__ = "httpx._models", "Headers.raw"
        monkeypatch.setattr(httpx.Headers, "__init__", reordered)
        if change == "order":
            monkeypatch.setattr(httpx.Headers, "raw", property(raw))
        assert facts_module._header_class(httpx.Headers)[0] is facts_module._raw_table

    def test_a_getter_whose_module_is_no_name_is_not_httpx_own(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A property whose getter names no module as text is not httpx's."""
        fresh_header_classes(monkeypatch)
        raw = httpx.Headers.raw

        class Getter:
            __qualname__ = "Headers.raw"

            def __call__(self, headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
                return raw.__get__(headers)

        getter = Getter()
        vars(getter)["__module__"] = 5  # what getattr finds: no module name
        monkeypatch.setattr(httpx.Headers, "raw", property(getter))
        assert facts_module._header_class(httpx.Headers)[0] is facts_module._raw_table
        headers = httpx.Headers({"Retry-After": "4"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 4.0

    def test_a_package_not_imported_is_not_looked_for(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A class named like httpx2's Headers, with no httpx2 imported: by raw."""
        fresh_header_classes(monkeypatch)
        monkeypatch.delitem(sys.modules, "httpx2", raising=False)
        cls = type("Headers", (httpx.Headers,), {})
        cls.__module__ = "httpx2._models"
        assert facts_module._header_class(cls)[0] is facts_module._raw_table
        assert "httpx2" not in sys.modules

    def test_a_package_that_cannot_be_read_is_not_looked_in(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An entry in sys.modules whose namespace raises: read by raw."""
        fresh_header_classes(monkeypatch)

        class Hostile:
            def __getattribute__(self, name: str) -> Any:
                raise RuntimeError(name)

        monkeypatch.setitem(sys.modules, "httpx2", Hostile())
        cls = type("Headers", (httpx.Headers,), {})
        cls.__module__ = "httpx2._models"
        assert facts_module._header_class(cls)[0] is facts_module._raw_table
        headers = cls({"Retry-After": "4"})
        assert classify(HTTPError(status_code=429, headers=headers)).retry_after == 4.0

    def test_a_subclass_is_not_read_by_the_list(self) -> None:
        """A subclass of httpx's Headers is no class httpx exports."""

        class Mine(httpx.Headers): ...

        Mine.__module__, Mine.__qualname__ = "httpx._models", "Headers"
        assert facts_module._header_class(Mine)[0] is facts_module._raw_table


def read_in_full(link: object, response: object) -> facts_module._Facts:
    """The general path: every fact of a link that says only its response."""
    return facts_module._read_link(link, {"response": response}.get, getattr)


def facts_fields(facts: facts_module._Facts | None) -> object:
    """The fields of `facts`, the headers they read included."""
    if facts is None:
        return None
    return (
        facts.link,
        facts.status,
        facts.codes,
        facts.decline,
        facts.headers,
        facts.errno,
        facts.hook,
        facts.header_table(),
    )


def rate_limited() -> httpx.HTTPStatusError:
    """What httpx raises for a 429 with Retry-After."""
    request = httpx.Request("GET", "https://api.example.com/v1/orders")
    response = httpx.Response(429, headers={"Retry-After": "2"}, request=request)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        response.raise_for_status()
    return raised.value


class TestResponseOnly:
    """A link whose only fact is its response is read as in full."""

    @pytest.mark.parametrize(
        "response",
        [
            Response(429, {"Retry-After": "2"}),
            Response(400, None, b'{"error": {"code": "card_declined"}}'),
            Response(402, {}, b'{"error": {"decline_code": "lost_card"}}'),
            Response("429", [], b"not json"),
            {"ResponseMetadata": {"HTTPStatusCode": 503}, "Error": {"Code": "x"}},
            {"ResponseMetadata": {"HTTPHeaders": {"retry-after": "1"}}},
            object(),
        ],
        ids=["headers", "body code", "decline", "odd", "botocore", "boto", "bare"],
    )
    def test_the_shortcut_reads_as_the_general_path(
        self, monkeypatch: pytest.MonkeyPatch, response: object
    ) -> None:
        """Status, codes, decline and headers as `_read_link` finds them."""
        link = HTTPError(response=response)
        info = facts_module._class_info(HTTPError)
        own = facts_module._said(vars(link))
        assert own == {"response": response}
        full = read_in_full(link, response)

        def general_path(*_arguments: object) -> None:
            pytest.fail("the shortcut read the link by the general path")

        monkeypatch.setattr(facts_module, "_read_link", general_path)
        shortcut = facts_module._Facts.read_own(link, info, own)
        assert facts_fields(shortcut) == facts_fields(full)

    def test_a_real_httpx_error(self) -> None:
        """httpx's own HTTPStatusError says only its response."""
        failure = rate_limited()
        info = facts_module._class_info(type(failure))
        own = facts_module._said(vars(failure))
        assert own is not None
        assert list(own) == ["response"]
        shortcut = facts_module._Facts.read_own(failure, info, own)
        full = read_in_full(failure, failure.response)
        assert facts_fields(shortcut) == facts_fields(full)
        decision = classify(failure)
        assert (decision.kind, decision.status, decision.retry_after) == (
            "rate_limit",
            429,
            2.0,
        )

    def test_a_link_that_says_more_is_read_in_full(self) -> None:
        """A second fact beside the response: the general path reads both."""
        link = HTTPError(response=Response(500), code="rate_limit")
        assert classify(link).rule == "code:rate_limit"
        alone = HTTPError(status_code=None, headers={"Retry-After": "1"})
        own = facts_module._said(vars(alone))
        assert own == {"headers": {"Retry-After": "1"}}
        facts = facts_module._Facts.read_own(
            alone, facts_module._class_info(HTTPError), own
        )
        assert facts is not None
        assert facts.header_table() == {"retry-after": "1"}
