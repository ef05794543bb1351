"""Tests for ErrorDetail, Errors, paths, messages and serialisers."""

from __future__ import annotations

import base64
import copy
import hashlib
import inspect
import json
import os
import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from outcome import (
    DEFAULT_MESSAGES,
    Bucket,
    ErrorDetail,
    Errors,
    format_path,
    format_pointer,
    parse_path,
    parse_pointer,
)
from outcome._errors import detail as detail_module
from outcome._errors import messages as messages_module
from outcome._errors import params as params_module
from outcome._errors import paths as paths_module
from tests.strategies import (
    FAST_PATH_EDGE_VALUES,
    HIDDEN_TEXT,
    Count,
    Name,
    any_paths,
    collections_with_bugs,
    fast_path_names,
    fast_path_params,
    fast_path_tuples,
    fast_path_values,
    pooled_details,
    pooled_errors,
    simple_paths,
    templates,
)


class TestPaths:
    """Parsing and rendering paths."""

    @pytest.mark.parametrize(
        ("text", "path"),
        [
            ("", ()),
            ("email", ("email",)),
            ("items[0].price", ("items", 0, "price")),
            ("items[12][3]", ("items", 12, 3)),
            ("[0].name", (0, "name")),
            ("card.expiry_month", ("card", "expiry_month")),
        ],
    )
    def test_parse(self, text: str, path: tuple[str | int, ...]) -> None:
        """Dotted paths parse into tuples, indices into ints."""
        assert parse_path(text) == path

    @pytest.mark.parametrize(
        "text",
        ["items[x", "items[", "items]", "a..b", ".a", "a.", "a[-1]", "a.[0]", "[]"],
    )
    def test_malformed_is_rejected_with_the_text(self, text: str) -> None:
        """A malformed path raises ValueError quoting it and showing the form."""
        with pytest.raises(ValueError, match=r"items\[0\].price") as info:
            parse_path(text)
        assert repr(text) in str(info.value)

    def test_parse_rejects_non_str(self) -> None:
        """parse_path() names what it got when that is not a str."""
        with pytest.raises(TypeError, match=r"takes a str, not \['a'\]"):
            parse_path(["a"])  # type: ignore[arg-type]

    @given(simple_paths)
    def test_dotted_round_trip(self, path: tuple[str | int, ...]) -> None:
        """format_path then parse_path gives the path back."""
        assert parse_path(format_path(path)) == path

    @given(any_paths)
    def test_dotted_round_trip_with_any_names(
        self, path: tuple[str | int, ...]
    ) -> None:
        """Names holding '.', '[', ']' or quotes are quoted, so nothing is lost."""
        assert parse_path(format_path(path)) == path

    def test_awkward_names_are_quoted(self) -> None:
        """('a.b',) and ('a', 'b') render differently, as JSON strings in brackets."""
        assert format_path(("a.b",)) == '["a.b"]'
        assert format_path(("a", "b")) == "a.b"
        assert format_path(("x", 'say "hi"', 0)) == 'x["say \\"hi\\""][0]'
        assert parse_path('x["say \\"hi\\""][0]') == ("x", 'say "hi"', 0)

    @given(any_paths)
    def test_pointer_round_trip(self, path: tuple[str | int, ...]) -> None:
        """format_pointer then parse_pointer gives the path back, ~ and / included."""
        assert parse_pointer(format_pointer(path)) == path

    @pytest.mark.parametrize(
        ("path", "pointer"),
        [
            ((), ""),
            (("a/b", "m~n", 0), "/a~1b/m~0n/0"),
            (("~1",), "/~01"),
        ],
    )
    def test_pointer_escaping(self, path: tuple[str | int, ...], pointer: str) -> None:
        """~ becomes ~0 and / becomes ~1, in that order, as RFC 6901 says."""
        assert format_pointer(path) == pointer
        assert parse_pointer(pointer) == path

    @pytest.mark.parametrize("pointer", ["a/b", "/a~2", "/~"])
    def test_bad_pointer_is_rejected(self, pointer: str) -> None:
        """A string that is not a JSON Pointer raises ValueError quoting it."""
        with pytest.raises(ValueError, match="is not a JSON Pointer") as info:
            parse_pointer(pointer)
        assert repr(pointer) in str(info.value)

    def test_pointer_rejects_non_str_and_empty_names(self) -> None:
        """parse_pointer names a non-str, and refuses an empty field name."""
        with pytest.raises(TypeError, match="parse_pointer\\(\\) takes a str, not 3"):
            parse_pointer(3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="empty segment"):
            parse_pointer("/items//price")

    def test_pointer_segment_with_leading_zero_stays_a_name(self) -> None:
        """'01' is not the canonical form of an index, so it stays a str."""
        assert parse_pointer("/items/01") == ("items", "01")

    def test_parse_cache_is_bounded(self) -> None:
        """Parsing many distinct paths does not grow the cache without limit."""
        for n in range(paths_module._PARSED_PATHS_LIMIT + 10):
            parse_path(f"items[{n}].price")
        assert len(paths_module._PARSED_PATHS) <= paths_module._PARSED_PATHS_LIMIT
        assert parse_path("items[1].price") == ("items", 1, "price")


BAD_PATHS = [
    (["items", 0], TypeError, "not a str, int, tuple or None"),
    (1.5, TypeError, "not a str, int, tuple or None"),
    (True, TypeError, "not a str, int, tuple or None"),
    (-1, ValueError, "the index -1 is negative"),
    (("items", -1), ValueError, "the index -1 is negative"),
    (("items", 1.0), TypeError, "its segment 1.0 is a float"),
    (("items", True), TypeError, "its segment True is a bool"),
    (("",), TypeError, "a field name is empty"),
    ("items[x", ValueError, "cannot parse the path"),
]


class TestErrorDetail:
    """The error record."""

    def test_fields(self) -> None:
        """Every field reads back as given, the path parsed."""
        cause = KeyError("sku")
        detail = ErrorDetail(
            "items[0].sku",
            "unknown",
            "no such product",
            params={"sku": "TEA-1"},
            bucket=Bucket.USER_VISIBLE,
            cause=cause,
        )
        assert detail.path == ("items", 0, "sku")
        assert detail.code == "unknown"
        assert detail.message == "no such product"
        assert dict(detail.params) == {"sku": "TEA-1"}
        assert detail.bucket is Bucket.USER_VISIBLE
        assert detail.cause is cause

    def test_defaults(self) -> None:
        """No message, no params, user-fixable, no cause."""
        detail = ErrorDetail(None, "blank")
        assert (detail.path, detail.message, dict(detail.params)) == ((), None, {})
        assert detail.bucket is Bucket.USER_FIXABLE
        assert detail.cause is None

    def test_equality_ignores_bucket_and_cause(self) -> None:
        """Equality and hash use path, code, params and message only."""
        first = ErrorDetail("a", "x", params={"n": 1}, cause=ValueError("one"))
        second = ErrorDetail(
            ("a",), "x", params={"n": 1}, bucket=Bucket.PROGRAMMER_ERROR
        )
        assert first == second
        assert hash(first) == hash(second)
        assert first != ErrorDetail("a", "x", params={"n": 2})
        assert first != ErrorDetail("a", "x", "other", params={"n": 1})
        assert first != ErrorDetail("b", "x", params={"n": 1})
        assert first != "a"

    @given(pooled_details(), pooled_details())
    def test_equal_details_hash_equal(
        self, first: ErrorDetail, second: ErrorDetail
    ) -> None:
        """a == b implies hash(a) == hash(b), with unhashable params too."""
        if first == second:
            assert hash(first) == hash(second)
        assert first == copy.copy(first)

    def test_unhashable_params_are_compared_by_value(self) -> None:
        """List and dict params compare by value; a list is not a tuple."""
        assert ErrorDetail("a", "x", params={"v": [1, {"k": {2}}]}) == ErrorDetail(
            "a", "x", params={"v": [1, {"k": {2}}]}
        )
        assert ErrorDetail("a", "x", params={"v": [1]}) != ErrorDetail(
            "a", "x", params={"v": (1,)}
        )

    def test_unhashable_objects_in_params_compare_by_repr(self) -> None:
        """An unhashable object that is not a container still dedups, by repr."""

        class Basket:
            __hash__ = None  # type: ignore[assignment]

            def __repr__(self) -> str:
                return "Basket()"

        first = ErrorDetail("a", "x", params={"basket": Basket()})
        assert first == ErrorDetail("a", "x", params={"basket": Basket()})
        assert len({first, ErrorDetail("a", "x", params={"basket": Basket()})}) == 1

    def test_params_are_a_frozen_copy(self) -> None:
        """Changing the dict passed in, or the params, cannot change the detail."""
        given_params: dict[str, object] = {"maximum": 3}
        detail = ErrorDetail("a", "too_long", params=given_params)
        given_params["maximum"] = 99
        assert detail.params["maximum"] == 3
        with pytest.raises(TypeError):
            detail.params["maximum"] = 4  # type: ignore[index]

    @pytest.mark.parametrize(
        "field",
        ["path", "code", "message", "params", "bucket", "cause", "reference", "other"],
    )
    def test_public_attributes_cannot_be_assigned(self, field: str) -> None:
        """Assigning any public or new attribute raises AttributeError."""
        detail = ErrorDetail("a", "blank")
        with pytest.raises(AttributeError):
            setattr(detail, field, None)
        assert detail == ErrorDetail("a", "blank")

    @pytest.mark.parametrize(("path", "error", "match"), BAD_PATHS)
    def test_bad_path(self, path: object, error: type[Exception], match: str) -> None:
        """A bad path raises a clear error that shows it."""
        with pytest.raises(error, match=match):
            ErrorDetail(path, "blank")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"code": ""}, ValueError, "must not be empty"),
            ({"code": 3}, TypeError, "must be a str such as 'blank'.*not 3"),
            ({"code": None}, TypeError, "not None"),
            ({"message": b"x"}, TypeError, "message must be a str or None, not b'x'"),
            ({"bucket": "user_fixable"}, TypeError, "must be a Bucket.*'user_fixable'"),
            (
                {"cause": "boom"},
                TypeError,
                "cause must be an exception or None, not 'boom'",
            ),
            (
                {"params": [("a", 1)]},
                TypeError,
                r"params must be a mapping.*\[\('a', 1\)\]",
            ),
            ({"params": {"a b": 1}}, TypeError, "'a b' is not a valid identifier"),
            ({"params": {1: 1}}, TypeError, "1 is not a valid identifier"),
            (
                {"params": {"path": "x"}},
                ValueError,
                "'path' shadows the ErrorDetail field",
            ),
            ({"params": {"bucket": "x"}}, ValueError, "'bucket' shadows"),
        ],
    )
    def test_bad_fields(
        self, kwargs: dict[str, object], error: type[Exception], match: str
    ) -> None:
        """Each wrong field raises an error naming the value."""
        arguments: dict[str, object] = {"path": "a", "code": "blank", **kwargs}
        with pytest.raises(error, match=match):
            ErrorDetail(**arguments)  # type: ignore[arg-type]

    def test_with_prefix(self) -> None:
        """with_prefix puts the prefix in front and keeps everything else."""
        cause = ValueError("x")
        detail = ErrorDetail(
            "price", "invalid", params={"n": 1}, bucket=Bucket.USER_VISIBLE, cause=cause
        )
        moved = detail.with_prefix("items[2]")
        assert moved.path == ("items", 2, "price")
        assert (moved.code, dict(moved.params), moved.bucket, moved.cause) == (
            "invalid",
            {"n": 1},
            Bucket.USER_VISIBLE,
            cause,
        )
        assert detail.with_prefix(None) is detail
        assert detail.with_prefix(()) is detail

    def test_canonical_text_orders_sets_and_dicts(self) -> None:
        """The text behind a reference does not depend on set or dict order."""

        def canonical(value: object) -> str:
            (_given, plain), _key = params_module._freeze_params({"value": value})
            return params_module._plain_text(dict(plain))

        assert canonical({"b", "a"}) == canonical(frozenset({"a", "b"}))
        assert canonical({"b", "a"}) == '{"value": ["a", "b"]}'
        assert canonical({"z": [1, (2,)], "a": 0}) == (
            '{"value": {"a": 0, "z": [1, [2]]}}'
        )
        assert canonical({"z": 1, "a": 0}) == canonical({"a": 0, "z": 1})

    def test_str_is_the_safe_message(self) -> None:
        """str() gives what a user may see; a bug's text only shows in repr()."""
        bug = ErrorDetail((), "bug", BUG_TEXT, bucket=Bucket.PROGRAMMER_ERROR)
        assert BUG_TEXT not in str(bug)
        assert bug.reference in str(bug)
        assert str(ErrorDetail("email", "blank")) == "Email can't be blank"
        errors = Errors([ErrorDetail("email", "blank"), bug])
        assert BUG_TEXT not in str(errors)
        assert f"{errors}".startswith("Email can't be blank; Something went wrong")

    def test_cannot_be_subclassed(self) -> None:
        """ErrorDetail is final at run time, like Ok and Err."""
        with pytest.raises(TypeError, match="ErrorDetail is final"):
            type("Sub", (ErrorDetail,), {})

    def test_pickle_names_only_the_public_class(self) -> None:
        """A pickled detail refers to outcome.ErrorDetail, not a private module."""
        data = pickle.dumps(ErrorDetail("a", "blank"))
        assert b"_errors" not in data
        assert b"ErrorDetail" in data

    def test_repr_shows_everything_for_logs(self) -> None:
        """repr, for logs, shows the real message, the cause and the reference."""
        detail = ErrorDetail(
            (),
            "bug",
            "KeyError: 'sku'",
            bucket=Bucket.PROGRAMMER_ERROR,
            cause=KeyError("sku"),
        )
        text = repr(detail)
        assert "KeyError: 'sku'" in text
        assert "cause=KeyError('sku')" in text
        assert f"reference={detail.reference!r}" in text
        assert "bucket=Bucket.PROGRAMMER_ERROR" in text
        assert (
            repr(ErrorDetail("a", "blank")) == "ErrorDetail(path=('a',), code='blank')"
        )

    @given(pooled_details())
    def test_pickle_round_trip(self, detail: ErrorDetail) -> None:
        """A detail survives pickling with every field."""
        restored = pickle.loads(pickle.dumps(detail))  # noqa: S301
        assert restored == detail
        assert restored.bucket is detail.bucket

    def test_cannot_be_subclassed_statically_but_compares_by_type(self) -> None:
        """A detail never equals an object of another type with the same fields."""
        assert ErrorDetail("a", "x").__eq__(("a", "x")) is NotImplemented


def _in_a_process(script: str, key: str | None, *, seed: int = 0) -> str:
    """What `script` prints in a new interpreter, with OUTCOME_REFERENCE_KEY=`key`."""
    env = {name: value for name, value in os.environ.items() if name != REFERENCE_KEY}
    if key is not None:
        env[REFERENCE_KEY] = key
    return subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script],
        env={**env, "PYTHONHASHSEED": str(seed)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


REFERENCE_KEY = "OUTCOME_REFERENCE_KEY"
# A bug whose params hold a set and a dict: their order must not matter.
PRINT_A_REFERENCE = (
    "from outcome import Bucket, ErrorDetail\n"
    "d = ErrorDetail('a', 'bug', params={'skus': {'tea', 'mug', 'cup'},"
    " 'by': {'z': 1, 'a': 2}}, bucket=Bucket.PROGRAMMER_ERROR,"
    " cause=KeyError('tea'))\n"
    "print(d.reference)\n"
)


def _unkeyed_reference(detail: ErrorDetail) -> str:
    """The reference as it was once made: a plain hash of the hidden text."""
    cause = detail.cause
    text = "|".join(
        [
            repr((detail.path, detail.code, detail.message)),
            params_module._plain_text(dict(detail._plain_params)),
            "" if cause is None else f"{type(cause).__qualname__}: {cause}",
        ]
    )
    return "ERR-" + hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


class TestReference:
    """ErrorDetail.reference: stable for a detail, keyed, carried by pickles."""

    def test_stable_for_a_detail_its_copies_and_equal_errors(self) -> None:
        """Read twice, moved under a prefix or out of one, the reference holds."""
        errors = Errors()
        bug = _programmer_error(errors)
        first = bug.reference
        assert re.fullmatch(r"ERR-[0-9a-f]{10}", first)
        assert bug.reference == first
        assert bug.with_prefix("order").reference == first
        merged = Errors().merge(errors, prefix="checkout")
        assert next(iter(merged)).reference == first
        assert next(iter(merged.subtree("checkout"))).reference == first
        again = ErrorDetail(
            "elsewhere",
            "sql_failed",
            BUG_TEXT,
            params={"query": BUG_TEXT},
            bucket=Bucket.PROGRAMMER_ERROR,
            cause=RuntimeError(BUG_TEXT),
        )
        assert again.reference == first  # the same bug, in the same process
        assert ErrorDetail((), "bug", "other").reference != first

    def test_keyed_so_not_a_function_of_the_hidden_text(self) -> None:
        """One key, one reference (whatever the hash seed); other keys, others."""
        shared = {
            _in_a_process(PRINT_A_REFERENCE, "s3cret-shared", seed=seed)
            for seed in (1, 2, 3)
        }
        assert len(shared) == 1
        other = _in_a_process(PRINT_A_REFERENCE, "another secret")
        unset = {_in_a_process(PRINT_A_REFERENCE, key) for key in (None, None, "")}
        assert len(shared | {other} | unset) == 5

    def test_a_guessed_secret_cannot_be_checked(self) -> None:
        """An account id in the hidden SQL is not found by hashing each guess."""
        bug = ErrorDetail(
            (),
            "sql_failed",
            "SELECT * FROM accounts WHERE id = 4821",
            bucket=Bucket.PROGRAMMER_ERROR,
        )
        guesses = {
            _unkeyed_reference(
                ErrorDetail(
                    (),
                    "sql_failed",
                    f"SELECT * FROM accounts WHERE id = {guess}",  # noqa: S608 - a guess, not a query
                    bucket=Bucket.PROGRAMMER_ERROR,
                )
            )
            for guess in range(10_000)
        }
        assert bug.reference not in guesses

    def test_the_key_is_derived_from_the_secret(self) -> None:
        """A secret of any length gives a 32-byte key of its own, not itself."""
        keys = [
            detail_module._reference_key(secret) for secret in ("a", "a", "b" * 500)
        ]
        assert keys[0] == keys[1] != keys[2]
        assert {len(key) for key in keys} == {32}
        assert b"a" * 32 not in keys
        assert detail_module._reference_key("") != detail_module._reference_key("")

    def test_a_secret_key_is_derived_at_the_first_reference(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a secret set, the key is made from it when a reference is first read."""
        monkeypatch.setattr(detail_module, "_REFERENCE_SECRET", "s3cret")
        monkeypatch.setattr(detail_module, "_REFERENCE_KEY", None)
        reference = ErrorDetail("sku", "bug").reference
        assert detail_module._reference_key("s3cret") == detail_module._REFERENCE_KEY
        monkeypatch.setattr(detail_module, "_REFERENCE_KEY", None)
        assert ErrorDetail("sku", "bug").reference == reference
        monkeypatch.setattr(detail_module, "_REFERENCE_SECRET", "another")
        monkeypatch.setattr(detail_module, "_REFERENCE_KEY", None)
        assert ErrorDetail("sku", "bug").reference != reference

    def test_a_pickle_shows_the_reference_the_worker_logged(self) -> None:
        """A job's bug, pickled by a worker with its own key, keeps its reference."""
        worker = (
            "import base64, pickle\n"
            "from outcome import Bucket, Errors\n"
            "errors = Errors()\n"
            "bug = errors.add('sku', 'bug', 'KeyError: tea',"
            " bucket=Bucket.PROGRAMMER_ERROR)\n"
            "print(repr(bug))\n"
            "print(base64.b64encode(pickle.dumps(errors)).decode())\n"
        )
        logged, pickled = _in_a_process(worker, None).splitlines()
        errors = pickle.loads(base64.b64decode(pickled))  # noqa: S301 - our own bytes
        [entry] = errors.to_problem_details()["errors"]
        assert f"reference={entry['reference']!r}" in logged
        [bug] = errors
        assert bug.reference == entry["reference"]
        assert pickle.loads(pickle.dumps(bug)).reference == bug.reference  # noqa: S301

    def test_a_reference_once_read_is_carried_by_pickles(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Read, a user error's reference travels too; unread, none is made."""
        read = ErrorDetail("email", "blank")
        reference = read.reference
        unread = ErrorDetail("email", "taken")
        data = pickle.dumps([read, unread])
        monkeypatch.setattr(detail_module, "_REFERENCE_KEY", b"another process")
        restored_read, restored_unread = pickle.loads(data)  # noqa: S301
        assert restored_read.reference == reference
        assert ErrorDetail("email", "blank").reference != reference
        assert restored_unread.reference == ErrorDetail("email", "taken").reference


class TestAdd:
    """Errors.add and append."""

    def test_path_forms(self) -> None:
        """A dotted string, a tuple, None, an int, or no path at all."""
        errors = Errors()
        assert errors.add("items[0].price", "invalid").path == ("items", 0, "price")
        assert errors.add(("items", 0, "price"), "blank").path == ("items", 0, "price")
        assert errors.add(None, "cart_changed").path == ()
        assert errors.add(code="cart_empty").path == ()
        assert errors.add(2, "invalid").path == (2,)
        assert len(errors) == 5

    def test_keywords_become_params(self) -> None:
        """Keyword arguments other than bucket and cause are the params."""
        cause = ValueError()
        detail = Errors().add(
            "name", "too_long", maximum=40, bucket=Bucket.USER_VISIBLE, cause=cause
        )
        assert dict(detail.params) == {"maximum": 40}
        assert detail.bucket is Bucket.USER_VISIBLE
        assert detail.cause is cause

    def test_duplicate_returns_the_held_detail(self) -> None:
        """Adding an equal error keeps the first (with its bucket) and returns it."""
        errors = Errors()
        first = errors.add("a", "x", n=1)
        again = errors.add(("a",), "x", n=1, bucket=Bucket.PROGRAMMER_ERROR)
        assert again is first
        assert again.bucket is Bucket.USER_FIXABLE
        assert len(errors) == 1

    @pytest.mark.parametrize(("path", "error", "match"), BAD_PATHS)
    def test_bad_path_leaves_the_collection_unchanged(
        self, path: object, error: type[Exception], match: str
    ) -> None:
        """A bad path raises and nothing is added."""
        errors = Errors([ErrorDetail("a", "blank")])
        with pytest.raises(error, match=match):
            errors.add(path, "blank")  # type: ignore[arg-type]
        assert errors == Errors([ErrorDetail("a", "blank")])

    @pytest.mark.parametrize(
        ("call", "error", "match"),
        [
            (lambda e: e.add("a", ""), ValueError, "must not be empty"),
            (lambda e: e.add("a", 7), TypeError, "not 7"),
            (lambda e: e.add("a"), TypeError, "add\\(\\) needs a code"),
            (lambda e: e.add("a", "x", 5), TypeError, "message must be a str"),
            (lambda e: e.add("a", "x", bucket="b"), TypeError, "must be a Bucket"),
            (
                lambda e: e.add("a", "x", cause="c"),
                TypeError,
                "cause must be an exception",
            ),
            (
                lambda e: e.add("a", "x", params={"n": 1}),
                ValueError,
                "'params' shadows",
            ),
            (lambda e: e.add("a", "x", path="b"), ValueError, "'path' shadows"),
        ],
    )
    def test_bad_input_leaves_the_collection_unchanged(
        self, call: Callable[[Errors], object], error: type[Exception], match: str
    ) -> None:
        """Each bad argument raises a clear error and nothing is added."""
        errors = Errors([ErrorDetail("a", "blank")])
        with pytest.raises(error, match=match):
            call(errors)
        assert list(errors) == [ErrorDetail("a", "blank")]

    def test_append_rejects_non_details(self) -> None:
        """append() names what it got and points at add()."""
        errors = Errors()
        with pytest.raises(
            TypeError, match=r"takes ErrorDetail values, but it got 'blank'.*errors.add"
        ):
            errors.append("blank")  # type: ignore[arg-type]
        assert not errors


def _outcome_of(make: Callable[[], ErrorDetail]) -> ErrorDetail | type[Exception]:
    """The detail `make` gives, or the type of what it raised."""
    try:
        return make()
    except (TypeError, ValueError) as exc:
        return type(exc)


def _fields_of(detail: ErrorDetail) -> tuple[object, ...]:
    """Everything a detail holds and shows, with the types of its plain values."""
    plain = detail._plain_params
    return (
        detail._key,
        hash(detail),
        [(name, type(value), value) for name, value in detail.params.items()],
        params_module._plain_text(dict(plain)),
        [(name, type(value)) for name, value in plain.items()],
        detail.bucket,
        detail.cause,
        detail.status,
        detail.reference,
        repr(detail),
        Errors([detail]).to_list(),
    )


class TestFastPaths:
    """Errors.add's fast paths give what the checked way gives, or refuse alike."""

    @given(
        st.one_of(
            st.dictionaries(fast_path_names, fast_path_values, min_size=1, max_size=1),
            fast_path_params,
        ),
        st.sampled_from(list(Bucket)),
    )
    def test_add_takes_params_as_the_constructor(
        self, params: dict[str, object], bucket: Bucket
    ) -> None:
        """add() makes the detail ErrorDetail() makes of any params, or neither does."""
        self._check_add(("items", 0, "price"), params, bucket)

    @given(
        st.one_of(
            simple_paths,
            any_paths,
            fast_path_tuples,
            st.sampled_from(["a.b", "items[2]", "", "a..b", None, 3, -1, True, 1.5]),
        )
    )
    def test_add_takes_paths_as_the_constructor(self, path: object) -> None:
        """add() makes the detail ErrorDetail() makes at any path, or neither does."""
        self._check_add(path, {}, Bucket.USER_FIXABLE)
        self._check_add(path, {"count": 1}, Bucket.USER_FIXABLE)

    @pytest.mark.parametrize(
        "value",
        FAST_PATH_EDGE_VALUES,
        ids=[f"{type(v).__name__}-{i}" for i, v in enumerate(FAST_PATH_EDGE_VALUES)],
    )
    def test_add_takes_edge_values_as_the_constructor(self, value: object) -> None:
        """A value at the edge of the fast path gives what the checked way gives."""
        self._check_add(("items", 0, "price"), {"maximum": value}, Bucket.USER_FIXABLE)
        self._check_add("price", {"maximum": value, "minimum": 0}, Bucket.USER_FIXABLE)

    @staticmethod
    def _check_add(path: object, params: dict[str, object], bucket: Bucket) -> None:
        """Compare add() and ErrorDetail() on the same parts."""
        general = _outcome_of(
            lambda: ErrorDetail(path, "taken", params=params, bucket=bucket)  # type: ignore[arg-type]
        )
        # Twice: the first call may check the names and paths the fast paths
        # then trust.
        for _ in range(2):
            added = _outcome_of(
                lambda: Errors().add(path, "taken", bucket=bucket, **params)  # type: ignore[arg-type]
            )
            if isinstance(general, ErrorDetail):
                assert isinstance(added, ErrorDetail)
                assert _fields_of(added) == _fields_of(general)
            else:
                assert not isinstance(added, ErrorDetail)

    @given(fast_path_params)
    def test_fresh_params_freeze_as_any_params(self, params: dict[str, object]) -> None:
        """The freeze of a dict made for the call equals the freeze of a copy."""
        try:
            frozen, key = params_module._freeze_params(params)
        except (TypeError, ValueError) as exc:
            with pytest.raises(type(exc)):
                params_module._freeze_fresh_params(dict(params))
            return
        given_params = params_module._params_given(frozen)
        plain = params_module._params_plain(frozen)
        held, fresh_key = params_module._freeze_fresh_params(dict(params))
        assert type(held) is type(frozen)
        assert fresh_key == key
        assert hash(fresh_key) == hash(key)
        assert params_module._params_given(held) == given_params
        fresh_plain = params_module._params_plain(held)
        assert params_module._plain_text(
            dict(fresh_plain)
        ) == params_module._plain_text(dict(plain))
        assert [type(v) for v in fresh_plain.values()] == [
            type(v) for v in plain.values()
        ]

    @pytest.mark.parametrize(
        ("valid", "lookalike", "error"),
        [
            (("items", 1), ("items", True), "is a bool"),
            (("items", 1), ("items", 1.0), "is a float"),
            (("items", 1), ("items", Count(1)), "is a Count"),
            (("items", "price"), ("items", Name("price")), "is a Name"),
            ("email", Name("email"), "not a str, int, tuple or None"),
        ],
    )
    def test_a_tuple_equal_to_a_checked_one_is_checked(
        self, valid: object, lookalike: object, error: str
    ) -> None:
        """A path checked before does not let an equal, invalid one through."""
        errors = Errors()
        errors.add(valid, "blank")  # type: ignore[arg-type]
        errors.add(valid, "blank")  # type: ignore[arg-type]
        assert valid in paths_module._PARSED_PATHS
        with pytest.raises(TypeError, match=error):
            errors.add(lookalike, "blank")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=error):
            ErrorDetail(lookalike, "blank")  # type: ignore[arg-type]
        assert len(errors) == 1

    def test_an_unhashable_segment_is_named(self) -> None:
        """A tuple holding a list is refused as a bad segment, not as unhashable."""
        errors = Errors()
        with pytest.raises(TypeError, match=r"its segment \[1\] is a list"):
            errors.add(("items", [1]), "blank")  # type: ignore[arg-type]
        assert not errors

    def test_a_name_equal_to_a_checked_one_is_checked(self) -> None:
        """A str subclass is no param name, even equal to one checked before."""
        errors = Errors()
        errors.add("a", "too_long", maximum=1)
        with pytest.raises(TypeError, match="not a valid identifier"):
            errors.add("a", "too_long", **{Name("maximum"): 2})
        assert len(errors) == 1

    def test_a_missing_code_is_told_before_bad_params(self) -> None:
        """With no code, add() says so, whatever the params."""
        with pytest.raises(TypeError, match="needs a code"):
            Errors().add("a", path="b")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="needs a code"):
            Errors().add("a", maximum=1)  # type: ignore[call-overload]

    def test_the_caches_are_bounded(self) -> None:
        """Many distinct tuples and names do not grow the caches without limit."""
        errors = Errors()
        for n in range(paths_module._PARSED_PATHS_LIMIT + 10):
            errors.add(("items", n), "blank", **{f"name_{n}": n})
        assert len(paths_module._PARSED_PATHS) <= paths_module._PARSED_PATHS_LIMIT
        assert len(params_module._CHECKED_NAMES) <= params_module._CHECKED_NAMES_LIMIT
        assert errors.add(("items", 1), "blank", name_1=1).params == {"name_1": 1}
        assert len(errors) == paths_module._PARSED_PATHS_LIMIT + 10

    def test_long_tuples_are_not_cached(self) -> None:
        """Only short tuples are kept by the tuple cache."""
        long_path = ("a",) * (paths_module._CACHED_TUPLE_LENGTH + 1)
        assert Errors().add(long_path, "blank").path == long_path
        assert long_path not in paths_module._PARSED_PATHS


class TestMerge:
    """Errors.merge at its edges; test_laws.py checks its laws."""

    @given(pooled_errors())
    def test_merge_with_itself_is_a_no_op(self, a: Errors) -> None:
        """merge(self) terminates and changes nothing."""
        before = a.copy()
        assert a.merge(a) is a
        assert a == before

    @given(pooled_errors(), pooled_errors())
    def test_order_kept_and_first_wins(self, a: Errors, b: Errors) -> None:
        """The result is a's errors, then b's new ones, each in order, no duplicates."""
        merged = a.copy().merge(b)
        expected = list(a) + [detail for detail in b if detail not in a]
        assert list(merged) == expected
        for detail in merged:
            held = [d for d in a if d == detail] or [d for d in b if d == detail]
            assert detail.bucket is held[0].bucket

    @given(pooled_errors(), simple_paths)
    def test_prefix(self, a: Errors, prefix: tuple[str | int, ...]) -> None:
        """With a prefix every path moves under it, and subtree takes it back off."""
        merged = Errors().merge(a, prefix=prefix)
        assert [d.path for d in merged] == [prefix + d.path for d in a]
        assert merged.subtree(prefix) == a

    def test_merges_an_iterable_of_details(self) -> None:
        """Any iterable of ErrorDetail merges, a generator included."""
        errors = Errors().merge(ErrorDetail(name, "blank") for name in ["a", "b", "a"])
        assert errors.paths() == [("a",), ("b",)]

    def test_bad_item_merges_nothing(self) -> None:
        """One bad item raises naming it, and none of the others is merged."""
        errors = Errors([ErrorDetail("a", "blank")])
        with pytest.raises(TypeError, match=r"item 1 of what was given is 'oops'"):
            errors.merge([ErrorDetail("b", "blank"), "oops"])  # type: ignore[list-item]
        assert errors == Errors([ErrorDetail("a", "blank")])

    def test_bad_prefix_merges_nothing(self) -> None:
        """A bad prefix raises before anything is merged."""
        errors = Errors()
        with pytest.raises(ValueError, match="cannot parse"):
            errors.merge(Errors([ErrorDetail("a", "blank")]), prefix="items[")
        assert not errors


class TestQueries:
    """Reading a collection."""

    def setup_method(self) -> None:
        """A collection with base, field and nested errors."""
        self.errors = Errors()
        self.errors.add(None, "cart_changed")
        self.errors.add("email", "blank")
        self.errors.add("email", "taken")
        self.errors.add("items[0].price", "too_long", maximum=5)
        self.errors.add(
            "items[1].price", "too_long", maximum=9, bucket=Bucket.USER_VISIBLE
        )

    def test_where(self) -> None:
        """where matches only what is given."""
        assert [d.code for d in self.errors.where("email")] == ["blank", "taken"]
        assert [d.path for d in self.errors.where(code="too_long")] == [
            ("items", 0, "price"),
            ("items", 1, "price"),
        ]
        assert [d.path for d in self.errors.where(maximum=9)] == [("items", 1, "price")]
        assert self.errors.where("email", "missing") == []
        assert self.errors.where(None) == self.errors.base
        assert len(self.errors.where()) == 5

    def test_where_default_reads_as_any_path(self) -> None:
        """The default of where's path shows as <any path> in help()."""
        default = inspect.signature(Errors.where).parameters["path"].default
        assert repr(default) == "<any path>"

    def test_has(self) -> None:
        """has checks path, and code when given."""
        assert self.errors.has("email")
        assert self.errors.has("email", "taken")
        assert not self.errors.has("email", "invalid")
        assert not self.errors.has("name")
        assert self.errors.has(None, "cart_changed")

    def test_subtree(self) -> None:
        """subtree strips the prefix from the errors under it."""
        items = self.errors.subtree("items")
        assert items.paths() == [(0, "price"), (1, "price")]
        assert self.errors.subtree(None) == self.errors

    def test_base_bucket_codes_paths(self) -> None:
        """The summary queries."""
        assert self.errors.base == [ErrorDetail(None, "cart_changed")]
        assert self.errors.bucket is Bucket.USER_VISIBLE
        assert Errors().bucket is None
        assert self.errors.codes() == ["cart_changed", "blank", "taken", "too_long"]
        assert self.errors.paths() == [
            (),
            ("email",),
            ("items", 0, "price"),
            ("items", 1, "price"),
        ]

    def test_delete(self) -> None:
        """delete removes and returns what matches, keeping the rest in order."""
        removed = self.errors.delete("email", "blank")
        assert removed == [ErrorDetail("email", "blank")]
        assert self.errors.codes() == ["cart_changed", "taken", "too_long"]
        assert len(self.errors.delete("email")) == 1
        assert self.errors.delete("email") == []

    def test_copy_and_clear(self) -> None:
        """A copy is independent; clear empties."""
        duplicate = self.errors.copy()
        duplicate.clear()
        assert len(self.errors) == 5
        assert not duplicate
        assert duplicate == Errors()

    def test_container_protocol(self) -> None:
        """len, iteration, membership, truth and equality."""
        assert len(self.errors) == 5
        assert ErrorDetail("email", "taken") in self.errors
        assert "email" not in self.errors
        assert bool(self.errors)
        assert not Errors()
        assert self.errors == self.errors.copy()
        assert self.errors != list(self.errors)
        reordered = Errors(reversed(list(self.errors)))
        assert reordered != self.errors

    def test_iteration_survives_changes(self) -> None:
        """Adding while iterating is safe: iteration runs over a snapshot."""
        for detail in self.errors:
            self.errors.add(("copy", *detail.path), detail.code)
        assert len(self.errors) == 10

    def test_not_hashable(self) -> None:
        """A mutable collection is not hashable."""
        with pytest.raises(TypeError, match="unhashable"):
            hash(self.errors)

    def test_repr_and_pickle(self) -> None:
        """repr lists the details; pickling keeps them in order."""
        assert (
            repr(Errors([ErrorDetail("a", "blank")]))
            == "Errors([ErrorDetail(path=('a',), code='blank')])"
        )
        restored = pickle.loads(pickle.dumps(self.errors))  # noqa: S301
        assert restored == self.errors

    def test_constructor_rejects_non_details(self) -> None:
        """Errors([...]) checks its items like merge."""
        with pytest.raises(TypeError, match="item 0 of what was given is 3"):
            Errors([3])  # type: ignore[list-item]


_REFERENCE_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def _reference_fill(template: str, params: Mapping[str, object]) -> str:
    """How templates were filled before they were cut: one regex, a callback."""

    def substitute(match: re.Match[str]) -> str:
        name = match[1]
        if name is None:
            return match[0][0]
        return messages_module._param_text(params[name]) if name in params else match[0]

    return _REFERENCE_PLACEHOLDER.sub(substitute, template)


class TestRenderingFastPaths:
    """The shortcuts of rendering give what the general way gives."""

    @given(templates, fast_path_params)
    def test_a_cut_template_fills_as_the_regex_did(
        self, template: str, params: dict[str, object]
    ) -> None:
        """A template cut once fills as the regex and its callback filled it."""
        expected = _reference_fill(template, params)
        assert messages_module._fill_template(template, params) == expected
        assert messages_module._fill_template(template, params) == expected  # cached

    @given(
        st.sampled_from([*DEFAULT_MESSAGES, "x-custom", "timeout", "validation"]),
        st.one_of(
            simple_paths, st.sampled_from([("base",), ("base", 0), ("a", "base")])
        ),
        fast_path_params
        | st.fixed_dictionaries(
            {"default_message": templates}, optional={"count": fast_path_values}
        ),
    )
    def test_a_field_fragment_reads_as_the_general_way(
        self, code: str, path: tuple[str | int, ...], params: dict[str, object]
    ) -> None:
        """The str.format way of plain params renders as the general way."""
        try:
            held, _key = params_module._freeze_params(params)
        except (TypeError, ValueError):  # names no error may have
            assume(False)
        general = messages_module._fragment_of(
            path, code, None, (params_module._params_given(held), {}), None
        )
        assert messages_module._fragment_of(path, code, None, held, None) == general

    def test_a_built_in_template_str_format_cannot_read_is_filled_as_written(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A placeholder str.format would take for an index is left to the cut way."""
        monkeypatch.setitem(messages_module._DEFAULT_TEMPLATES, "x-odd", "{0} {count}")
        errors = Errors([ErrorDetail("a", "x-odd", params={"count": 2})])
        assert errors.to_problem_details()["errors"][0]["detail"] == "{0} 2"
        assert "x-odd" not in messages_module._FIELD_FORMATS

    @given(any_paths, st.sampled_from(["", "#", "/data/attributes"]))
    def test_a_pointer_is_the_formatted_one(
        self, path: tuple[str | int, ...], root: str
    ) -> None:
        """A checked path's pointer, from escaped segments, is format_pointer's."""
        assert paths_module._pointer(path, root) == root + format_pointer(path)
        assert paths_module._pointer(path, root) == root + format_pointer(path)

    def test_escaped_segments_are_bounded(self) -> None:
        """Many distinct indices do not grow the escaped segments without limit."""
        for n in range(paths_module._ESCAPED_SEGMENTS_LIMIT + 10):
            paths_module._pointer((n,), "")
        assert (
            len(paths_module._ESCAPED_SEGMENTS) <= paths_module._ESCAPED_SEGMENTS_LIMIT
        )
        assert paths_module._pointer(("a/b", 1), "#") == "#/a~1b/1"

    @given(st.lists(st.sampled_from(list(Bucket))))
    def test_the_worst_bucket_is_the_most_severe(self, buckets: list[Bucket]) -> None:
        """The scan for the worst bucket finds what max() by severity finds."""
        details = [
            ErrorDetail("a", f"x{n}", bucket=bucket) for n, bucket in enumerate(buckets)
        ]
        expected = max(buckets, key=lambda bucket: bucket.severity, default=None)
        assert detail_module._worst_bucket(details) is expected
        assert Errors(details).bucket is (max(buckets) if buckets else None)

    def test_long_templates_are_not_cached(self) -> None:
        """Only short templates are kept, cut, and the cache is bounded."""
        long_template = "{count} " * 1000
        assert (
            messages_module._fill_template(long_template, {"count": 1}) == "1 " * 1000
        )
        assert long_template not in messages_module._COMPILED_TEMPLATES
        for n in range(messages_module._COMPILED_TEMPLATES_LIMIT + 10):
            messages_module._fill_template(f"{{count}} {n}", {"count": 1})
        limit = messages_module._COMPILED_TEMPLATES_LIMIT
        assert len(messages_module._COMPILED_TEMPLATES) <= limit

    def test_a_param_whose_str_raises_in_a_one_placeholder_template(self) -> None:
        """The inline text of a param falls back to its repr, as _param_text does."""

        class Shy:
            def __str__(self) -> str:
                raise RuntimeError

            def __repr__(self) -> str:
                return "<shy>"

        assert messages_module._fill_template("was {v}!", {"v": Shy()}) == "was <shy>!"
        assert (
            messages_module._fill_template("{v} {w}", {"v": Shy(), "w": 1}) == "<shy> 1"
        )


class TestMessages:
    """messages and full_messages, rendered when read."""

    def test_default_catalog(self) -> None:
        """The built-in English templates, filled from params."""
        errors = Errors()
        errors.add("name", "too_long", maximum=40)
        errors.add("name", "blank")
        errors.add("card.expiry_month", "out_of_range", minimum=1, maximum=12)
        assert errors.messages() == {
            "name": ["is too long (maximum is 40 characters)", "can't be blank"],
            "card.expiry_month": ["must be between 1 and 12"],
        }
        assert errors.full_messages() == [
            "Name is too long (maximum is 40 characters)",
            "Name can't be blank",
            "Expiry month must be between 1 and 12",
        ]

    def test_catalog_lookup_order(self) -> None:
        """A field-specific key wins over the code, which wins over the default."""
        errors = Errors()
        errors.add("items[0].price", "invalid")
        errors.add("name", "invalid")
        errors.add("name", "blank")
        catalog = {"items.price.invalid": "must be a price", "invalid": "looks wrong"}
        assert errors.messages(catalog) == {
            "items[0].price": ["must be a price"],
            "name": ["looks wrong", "can't be blank"],
        }

    def test_message_override_and_placeholders(self) -> None:
        """An override wins; placeholders fill from params, unknown ones stay."""
        errors = Errors()
        errors.add("sku", "unknown", "no product {sku} (see {docs})", sku="TEA-9")
        assert errors.messages() == {"sku": ["no product TEA-9 (see {docs})"]}

    def test_template_reads_params_at_read_time(self) -> None:
        """The catalog in force when reading is the one used."""
        errors = Errors()
        errors.add("name", "blank")
        assert errors.full_messages({"blank": "est vide"}) == ["Name est vide"]
        assert errors.full_messages() == ["Name can't be blank"]

    def test_doubled_braces_are_literal(self) -> None:
        """{{ and }} stand for literal braces, as in str.format."""
        errors = Errors()
        errors.add("a", "x", "use {{name}} for {name}", name="n")
        assert errors.messages() == {"a": ["use {name} for n"]}

    def test_empty_templates_are_used_consistently(self) -> None:
        """An empty template is a template, for field keys and codes alike."""
        errors = Errors()
        errors.add("card.month", "invalid")
        assert errors.full_messages({"card.month.invalid": "", "invalid": "x"}) == [
            "Month"
        ]
        assert errors.full_messages({"invalid": ""}) == ["Month"]

    def test_unknown_code_still_reads(self) -> None:
        """An unknown code renders as words: after a field, and at the base."""
        errors = Errors()
        errors.add("card.number", "card_declined")
        errors.add(None, "job_failed")
        assert errors.full_messages() == [
            "Number is invalid (card declined)",
            "Job failed",
        ]

    def test_base_full_message_is_bare_and_capitalised(self) -> None:
        """A base error is not prefixed by a field name."""
        errors = Errors()
        errors.add(None, "blank")
        errors.add(None, "custom", "your cart changed")
        assert errors.full_messages() == ["Can't be blank", "Your cart changed"]

    def test_index_only_path_has_no_field_name(self) -> None:
        """A path of indices alone reads like the base."""
        errors = Errors()
        errors.add(0, "blank")
        assert errors.full_messages() == ["Can't be blank"]

    def test_every_default_template_renders(self) -> None:
        """Every built-in template fills from typical params without leftovers."""
        params = {
            "count": 3,
            "maximum": 9,
            "minimum": 1,
            "length": 4,
            # the ctx of pydantic's types, under its own names
            "expected": "'a' or 'b'",
            "encoding": "base64",
            "expected_schemes": "'https'",
            "expected_version": 4,
            "discriminator": "'kind'",
            "expected_tags": "'cat', 'dog'",
        }
        errors = Errors()
        for code in DEFAULT_MESSAGES:
            errors.add("field", code, **params)
        for message in errors.full_messages():
            assert "{" not in message
            assert message.startswith("Field ")


class UpstreamError(Exception):
    """Shaped like a client's error: a status and the response's headers."""

    def __init__(self, status: int, code: str | None = None) -> None:
        super().__init__(f"the payments API answered {status}")
        self.status_code = status
        self.code = code
        self.headers = {"Retry-After": "2"}


# What a caught exception at the base reads as, by the kind it is classified as.
BASE_SENTENCES = {
    "connection": (
        ConnectionResetError("10.0.0.7:443"),
        "A service we rely on could not be reached; try again shortly",
    ),
    "timeout": (
        TimeoutError("10.0.0.7:443"),
        "A service we rely on took too long to answer; try again shortly",
    ),
    "rate_limit": (
        UpstreamError(429),
        "A service we rely on is busy; try again in a moment",
    ),
    "server": (
        UpstreamError(503),
        "A service we rely on is not working right now; try again later",
    ),
    "quota": (
        UpstreamError(429, "insufficient_quota"),
        "A service we rely on has reached its usage limit",
    ),
    "conflict": (
        UpstreamError(409),
        "Someone else changed this at the same time; try again",
    ),
    "declined": (UpstreamError(402, "card_declined"), "The payment was declined"),
    "validation": (
        UpstreamError(400),
        "Some of what was sent is invalid; check it and try again",
    ),
}


def base_outputs(errors: Errors, catalog: Mapping[str, str] | None = None) -> list[str]:
    """Every full message of the base errors of `errors`, one list per output."""
    return [
        *errors.full_messages(catalog),
        *(str(detail) for detail in errors if catalog is None),
        *(
            entry["detail"]
            for entry in errors.to_problem_details(catalog=catalog)["errors"]
        ),
        *(entry["detail"] for entry in errors.to_jsonapi(catalog=catalog)["errors"]),
        *(entry["message"] for entry in errors.to_graphql(catalog)),
    ]


class TestBaseSentences:
    """An error about no field reads as a sentence of its own, with a subject."""

    @pytest.mark.parametrize("kind", sorted(BASE_SENTENCES))
    def test_a_caught_exception_at_the_base_has_a_subject(self, kind: str) -> None:
        """Every full message of a base error made from an exception has a subject."""
        exc, sentence = BASE_SENTENCES[kind]
        errors = Errors()

        detail = errors.add_exception(exc)

        assert (detail.path, detail.code) == ((), kind)
        assert set(base_outputs(errors)) == {sentence}
        assert str(errors) == sentence

    def test_the_same_error_at_a_field_keeps_its_fragment(self) -> None:
        """With a field, the field is the subject: 'Payment could not be reached'."""
        errors = Errors()
        errors.add_exception(ConnectionResetError(), "payment")
        errors.add_exception(ConnectionResetError())

        assert errors.full_messages() == [
            "Payment could not be reached; try again shortly",
            "A service we rely on could not be reached; try again shortly",
        ]
        assert errors.messages() == {
            "payment": ["could not be reached; try again shortly"],
            "": ["could not be reached; try again shortly"],
        }
        problem = errors.to_problem_details()["errors"]
        assert [entry["detail"] for entry in problem] == [
            "could not be reached; try again shortly",
            "A service we rely on could not be reached; try again shortly",
        ]

    def test_a_catalog_translates_the_sentence_under_base_code(self) -> None:
        """A catalog's "base.<code>" is the sentence, filled from the params."""
        errors = Errors()
        errors.add_exception(UpstreamError(429))
        catalog = {
            "base.rate_limit": "un service est saturé ; réessayez dans {retry_after} s",
            "rate_limit": "est saturé",
        }

        assert set(base_outputs(errors, catalog)) == {
            "Un service est saturé ; réessayez dans 2 s"
        }
        assert errors.messages(catalog) == {"": ["est saturé"]}

    def test_a_catalogs_own_template_beats_the_built_in_sentence(self) -> None:
        """A catalog that has the code but no base key is still the catalog's."""
        errors = Errors()
        errors.add_exception(TimeoutError())

        assert errors.full_messages({"timeout": "a mis trop de temps"}) == [
            "A mis trop de temps"
        ]

    def test_a_given_message_is_used_as_given(self) -> None:
        """An error's own message beats every sentence, catalog's or built-in."""
        errors = Errors()
        errors.add(None, "connection", "The bank is offline tonight.")

        assert errors.full_messages({"base.connection": "x", "connection": "y"}) == [
            "The bank is offline tonight."
        ]

    def test_codes_without_a_sentence_read_as_before(self) -> None:
        """No base sentence: the fragment, capitalised, or the code's words."""
        errors = Errors()
        errors.add(None, "blank")
        errors.add(None, "job_failed")

        assert errors.full_messages() == ["Can't be blank", "Job failed"]
        assert errors.full_messages({"base.blank": "nothing was filled in"}) == [
            "Nothing was filled in",
            "Job failed",
        ]

    def test_a_path_of_indices_alone_reads_like_the_base(self) -> None:
        """items[0] names no field either: it gets the base sentence."""
        errors = Errors()
        errors.add(0, "timeout", bucket=Bucket.USER_VISIBLE)

        assert errors.full_messages() == [
            "A service we rely on took too long to answer; try again shortly"
        ]

    def test_a_programmer_error_at_the_base_stays_redacted(self) -> None:
        """A base bug is shown by reference, never by a sentence of its kind."""
        errors = Errors()
        detail = errors.add(
            None, "connection", BUG_TEXT, bucket=Bucket.PROGRAMMER_ERROR
        )

        [message] = errors.full_messages({"base.connection": "leaked"})
        assert message.startswith("Something went wrong on our side.")
        assert detail.reference in message

    @given(
        st.sampled_from(sorted(BASE_SENTENCES)),
        st.fixed_dictionaries(
            {},
            optional={
                "base": st.text(min_size=1, max_size=20),
                "code": st.text(min_size=1, max_size=20),
            },
        ),
    )
    def test_lookup_order(self, kind: str, given_templates: dict[str, str]) -> None:
        """base.<code>, then <code>, in the catalog; then the built-in sentence."""
        assume(
            all(
                "{" not in text and "}" not in text for text in given_templates.values()
            )
        )
        catalog = {
            key: given_templates[part]
            for key, part in ((f"base.{kind}", "base"), (kind, "code"))
            if part in given_templates
        }
        errors = Errors([ErrorDetail(None, kind, bucket=Bucket.USER_VISIBLE)])

        chosen = given_templates.get("base", given_templates.get("code"))
        expected = (
            BASE_SENTENCES[kind][1]
            if chosen is None
            else chosen[:1].upper() + chosen[1:]
        )
        assert set(base_outputs(errors, catalog)) == {expected}
        # The fragments, for a form, are the same as for any error.
        assert errors.messages(catalog) == {
            "": [given_templates.get("code", DEFAULT_MESSAGES[kind])]
        }


class TestDefaultMessage:
    """The default_message param: an error's own template, which a catalog beats."""

    def test_it_beats_the_built_in_template(self) -> None:
        """A default_message is used where the built-in template would be."""
        errors = Errors()
        errors.add("name", "blank", default_message="must be the name on the card")

        assert errors.full_messages() == ["Name must be the name on the card"]

    def test_a_catalog_beats_it(self) -> None:
        """A catalog's template for the code, or for the field, comes first."""
        errors = Errors()
        errors.add("name", "blank", default_message="must be the name on the card")

        assert errors.messages({"blank": "est vide"}) == {"name": ["est vide"]}
        assert errors.messages({"name.blank": "manque"}) == {"name": ["manque"]}

    def test_a_given_message_beats_it(self) -> None:
        """An error's message is an override: it comes before everything."""
        errors = Errors()
        errors.add("name", "blank", "is empty", default_message="is missing")

        assert errors.messages() == {"name": ["is empty"]}

    def test_it_is_a_template_of_the_params(self) -> None:
        """It is filled from the other params, like any template."""
        errors = Errors()
        errors.add(
            None,
            "locked",
            default_message="the cart is locked for {minutes} min",
            minutes=5,
        )

        assert errors.full_messages() == ["The cart is locked for 5 min"]

    def test_it_is_not_shown_as_a_param(self) -> None:
        """Serialisers show it as the message, never among the params."""
        errors = Errors()
        detail = errors.add("name", "blank", default_message="is missing", limit=3)

        assert dict(detail.params) == {"default_message": "is missing", "limit": 3}
        assert errors.to_list()[0]["params"] == {"limit": 3}
        assert errors.to_dict()["name"] == [
            {"code": "blank", "message": "is missing", "params": {"limit": 3}}
        ]

    def test_one_that_is_not_text_is_no_template(self) -> None:
        """A default_message that is not a str is ignored as a template."""
        errors = Errors()
        errors.add("name", "blank", default_message=42)

        assert errors.full_messages() == ["Name can't be blank"]


BUG_TEXT = "SELECT password FROM users WHERE id = 7 -- /srv/app/db.py:12"


def _programmer_error(errors: Errors) -> ErrorDetail:
    return errors.add(
        "items[0]",
        "sql_failed",
        BUG_TEXT,
        bucket=Bucket.PROGRAMMER_ERROR,
        cause=RuntimeError(BUG_TEXT),
        query=BUG_TEXT,
    )


def _all_outputs(
    errors: Errors, catalog: Mapping[str, str] | None = None
) -> list[object]:
    return [
        errors.messages(catalog),
        errors.full_messages(catalog),
        errors.to_list(catalog),
        errors.to_dict(catalog),
        errors.to_problem_details(catalog=catalog),
        errors.to_jsonapi(catalog=catalog),
        errors.to_graphql(catalog),
    ]


class TestSerialisers:
    """The shapes APIs answer with."""

    def setup_method(self) -> None:
        """A field error, a nested one with params, and a base error."""
        self.errors = Errors()
        self.errors.add("card.expiry_month", "out_of_range", minimum=1, maximum=12)
        self.errors.add("items[0].unit/price", "invalid")
        self.errors.add(None, "cart_changed", "Your cart changed.")

    def test_to_list(self) -> None:
        """One entry per error with path, pointer, code, message and params."""
        assert self.errors.to_list()[1] == {
            "path": ["items", 0, "unit/price"],
            "pointer": "/items/0/unit~1price",
            "code": "invalid",
            "message": "is invalid",
            "params": {},
        }

    def test_to_dict(self) -> None:
        """Entries grouped by dotted path, the base under ''."""
        assert self.errors.to_dict()[""] == [
            {"code": "cart_changed", "message": "Your cart changed.", "params": {}}
        ]
        assert self.errors.to_dict()["card.expiry_month"][0]["params"] == {
            "minimum": 1,
            "maximum": 12,
        }

    def test_problem_details(self) -> None:
        """RFC 9457: type, title, status, and errors with detail, pointer, code."""
        problem = self.errors.to_problem_details(
            title="Check your order",
            detail="3 problems",
            instance="/checkouts/42",
            type="https://shop.example/problems/invalid",
        )
        assert problem == {
            "type": "https://shop.example/problems/invalid",
            "title": "Check your order",
            "status": 422,
            "detail": "3 problems",
            "instance": "/checkouts/42",
            "errors": [
                {
                    "detail": "must be between 1 and 12",
                    "pointer": "#/card/expiry_month",
                    "code": "out_of_range",
                },
                {
                    "detail": "is invalid",
                    "pointer": "#/items/0/unit~1price",
                    "code": "invalid",
                },
                {
                    "detail": "Your cart changed.",
                    "pointer": "#",
                    "code": "cart_changed",
                },
            ],
        }

    @pytest.mark.parametrize(
        ("bucket", "status", "title"),
        [
            (Bucket.USER_FIXABLE, 422, "Unprocessable Entity"),
            (Bucket.USER_VISIBLE, 503, "Service Unavailable"),
            (Bucket.PROGRAMMER_ERROR, 500, "Internal Server Error"),
        ],
    )
    def test_status_and_title_follow_the_worst_bucket(
        self, bucket: Bucket, status: int, title: str
    ) -> None:
        """By default the worst bucket sets the status, and the status the title."""
        self.errors.add(None, "other", bucket=bucket)
        problem = self.errors.to_problem_details()
        assert (problem["status"], problem["title"]) == (status, title)
        assert {e["status"] for e in self.errors.to_jsonapi()["errors"]} == {
            str(status)
        }
        assert self.errors.to_problem_details(status=409)["title"] == "Conflict"

    @pytest.mark.parametrize(
        ("status", "title"),
        [
            (529, "Server Error"),
            (599, "Server Error"),
            (499, "Client Error"),
            (100, "Continue"),
            (103, "Early Hints"),
            (299, "Successful"),
            (HTTPStatus.CONFLICT, "Conflict"),
        ],
    )
    def test_any_http_status_is_taken(self, status: int, title: str) -> None:
        """Any status from 100 to 599 is given back, titled by its class if need be."""
        problem = self.errors.to_problem_details(status=status)
        assert (problem["status"], problem["title"]) == (int(status), title)
        assert type(problem["status"]) is int
        assert self.errors.to_jsonapi(status=status)["errors"][0]["status"] == str(
            int(status)
        )

    @pytest.mark.parametrize(
        ("status", "error", "match"),
        [
            (True, TypeError, "takes status as an int from 100 to 599.*not True"),
            ("503", TypeError, "not '503' \\(of type str\\)"),
            (503.0, TypeError, "not 503.0"),
            (600, ValueError, "from 100 to 599, not 600; pass None"),
            (99, ValueError, "not 99"),
            (-422, ValueError, "not -422"),
        ],
    )
    def test_a_status_that_is_not_one_is_refused(
        self, status: object, error: type[Exception], match: str
    ) -> None:
        """A bool, a str or an int outside 100..599 is refused, by both serialisers."""
        with pytest.raises(error, match=f"to_problem_details\\(\\) .*{match}"):
            self.errors.to_problem_details(status=status)  # type: ignore[arg-type]
        with pytest.raises(error, match=f"to_jsonapi\\(\\) .*{match}"):
            self.errors.to_jsonapi(status=status)  # type: ignore[arg-type]

    def test_jsonapi(self) -> None:
        """JSON:API error objects: string status, source pointer for fields only."""
        objects = self.errors.to_jsonapi(status=400, pointer_root="/data/attributes")[
            "errors"
        ]
        assert objects[0] == {
            "status": "400",
            "code": "out_of_range",
            "detail": "Expiry month must be between 1 and 12",
            "source": {"pointer": "/data/attributes/card/expiry_month"},
        }
        assert "source" not in objects[2]

    def test_graphql(self) -> None:
        """GraphQL user errors: field as a list of strings, None for the base."""
        assert self.errors.to_graphql()[1] == {
            "field": ["items", "0", "unit/price"],
            "message": "Unit/price is invalid",
            "code": "invalid",
        }
        assert self.errors.to_graphql()[2]["field"] is None

    def test_non_json_params_do_not_crash(self) -> None:
        """Params that JSON cannot hold are rendered with repr; keys become str."""
        errors = Errors()
        marker = object()
        deep: list[object] = ["deep"]
        for _ in range(30):
            deep = [deep]
        errors.add(
            "a",
            "invalid",
            obj=marker,
            nan=float("nan"),
            inf=float("inf"),
            when={1: "one", "two": (2, {3})},
            nested=deep,
        )
        for output in _all_outputs(errors):
            json.dumps(output, sort_keys=True, allow_nan=False)
        params = errors.to_list()[0]["params"]
        assert isinstance(params, dict)
        assert params["obj"] == repr(marker)
        assert params["nan"] == "nan"
        assert params["when"] == {"1": "one", "two": [2, [3]]}

    @given(pooled_errors())
    def test_output_is_json_and_deterministic(self, errors: Errors) -> None:
        """Every output is JSON with sortable str keys, the same on every call."""
        outputs = _all_outputs(errors)
        texts = [json.dumps(output, allow_nan=False) for output in outputs]
        assert texts == [json.dumps(output) for output in _all_outputs(errors)]
        for output in outputs:  # str keys only: JSON as it was, and sortable
            text = json.dumps(output, sort_keys=True, allow_nan=False)
            assert json.loads(text) == output
        assert outputs == _all_outputs(errors.copy())


class TestThreads:
    """Reading a collection while another thread adds to it."""

    def test_readers_work_on_a_snapshot_while_another_thread_adds(self) -> None:
        """No serialiser or query fails because the errors changed meanwhile."""
        errors = Errors()
        for index in range(500):
            errors.add(("items", index), "invalid")

        def add_more() -> None:
            for index in range(3_000):
                errors.add(("more", index), "invalid", bucket=Bucket.PROGRAMMER_ERROR)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # switch threads far more often than usual
        adder = threading.Thread(target=add_more)
        try:
            adder.start()
            while adder.is_alive():
                outputs = [
                    *_all_outputs(errors),
                    str(errors),
                    errors.where(code="invalid"),
                    errors.base,
                    errors.bucket,
                    errors.codes(),
                    errors.paths(),
                    errors.subtree("items"),
                ]
                assert all(output is not None for output in outputs)
        finally:
            adder.join()
            sys.setswitchinterval(interval)
        assert len(errors) == 3_500


class TestHostileParams:
    """Params no serialiser could render are rendered safely, read once."""

    def _outputs_are_json(self, errors: Errors) -> str:
        texts = [json.dumps(output, allow_nan=False) for output in _all_outputs(errors)]
        return "".join(texts)

    def test_a_param_that_holds_itself(self) -> None:
        """A cyclic list is shown to a depth, then as a short text: no recursion."""
        cycle: list[object] = []
        cycle.append(cycle)
        errors = Errors()
        errors.add("a", "invalid", looped=cycle)
        assert "<list nested more than 20 deep>" in self._outputs_are_json(errors)
        assert errors.add("a", "invalid", looped=cycle) is next(iter(errors))

    def test_a_very_deep_param(self) -> None:
        """A 100,000-deep nest costs its first 20 levels only."""
        deep: list[object] = []
        for _ in range(100_000):
            deep = [deep]
        errors = Errors()
        errors.add("a", "invalid", deep=deep)
        assert "<list nested more than 20 deep>" in self._outputs_are_json(errors)

    def test_a_very_wide_param(self) -> None:
        """Past 10,000 values, containers are shown as a short text."""
        errors = Errors()
        errors.add("a", "invalid", rows=[[n] for n in range(20_000)])
        params = errors.to_list()[0]["params"]
        assert isinstance(params, dict)
        rows = params["rows"]
        assert isinstance(rows, list)
        assert rows[0] == [0]
        assert rows[-1] == "<list past 10,000 values>"

    def test_an_int_too_large_to_render(self) -> None:
        """An int of over 4,300 digits reaches no serialiser as digits."""
        huge = 10**5000
        errors = Errors()
        errors.add("count", "greater_than", count=huge)
        text = self._outputs_are_json(errors)
        assert "<int of 16,610 bits>" in text
        assert "must be greater than <int object>" in errors.full_messages()[0]

    def test_a_param_whose_str_and_repr_raise(self) -> None:
        """A param whose __str__ and __repr__ raise is shown by its type."""

        class Hostile:
            def __str__(self) -> str:
                raise RuntimeError

            def __repr__(self) -> str:
                raise RuntimeError

        errors = Errors()
        errors.add("a", "too_long", maximum=Hostile())
        assert "<Hostile object>" in self._outputs_are_json(errors)
        assert errors.full_messages() == [
            "A is too long (maximum is <Hostile object> characters)"
        ]
        assert "params=<dict object>" in repr(errors)

    def test_a_bug_whose_cause_cannot_be_shown(self) -> None:
        """A cause whose __str__ and __repr__ raise still lets the error page render."""

        class Unprintable(Exception):
            def __str__(self) -> str:
                raise RuntimeError

            def __repr__(self) -> str:
                raise RuntimeError

        errors = Errors()
        bug = errors.add(
            "a", "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=Unprintable()
        )
        text = self._outputs_are_json(errors)
        assert bug.reference in text
        assert bug.reference in str(errors)
        assert bug.reference in str(bug)
        assert "cause=<Unprintable object>" in repr(bug)
        other = ErrorDetail(
            "a", "bug", bucket=Bucket.PROGRAMMER_ERROR, cause=KeyError()
        )
        assert bug.reference != other.reference  # the cause's type still counts

    def test_a_bug_whose_text_holds_a_lone_surrogate(self) -> None:
        """Params and a cause holding a lone surrogate, not UTF-8, have a reference."""
        text = "bad \ud800 byte"  # as a file name decoded with surrogateescape is
        bug = ErrorDetail(
            (),
            "bug",
            params={"name": text},
            bucket=Bucket.PROGRAMMER_ERROR,
            cause=OSError(text),
        )
        assert bug.reference in Errors([bug]).full_messages()[0]

    def test_params_are_read_when_added(self) -> None:
        """Changing a list after adding it changes neither its key nor its output."""
        allowed = ["EUR", "USD"]
        errors = Errors()
        errors.add("currency", "inclusion", allowed=allowed)
        allowed.append("GBP")
        assert errors.to_list()[0]["params"] == {"allowed": ["EUR", "USD"]}
        assert len(errors.add("currency", "inclusion", allowed=["EUR", "USD"]).params)
        assert len(errors) == 1

    def test_serialised_params_can_be_changed(self) -> None:
        """What a serialiser returns is a copy: changing it changes nothing held."""
        errors = Errors()
        errors.add("currency", "inclusion", allowed=["EUR"])
        output = errors.to_list()[0]["params"]
        assert isinstance(output, dict)
        output["allowed"].append("GBP")
        assert errors.to_list()[0]["params"] == {"allowed": ["EUR"]}

    @pytest.mark.parametrize(
        "path",
        [
            ("items", 2**64),
            2**64,
            "items[99999999999999999999]",
            "items[9999999999999999999]",
            ("a", 10**5000),
        ],
    )
    def test_a_path_index_too_large(self, path: object) -> None:
        """An index beyond any list is refused, with a message that renders."""
        errors = Errors()
        with pytest.raises(ValueError, match="is not a list index"):
            errors.add(path, "invalid")
        assert len(errors) == 0

    def test_a_pointer_segment_too_long_is_a_name(self) -> None:
        """A JSON Pointer segment of many digits is read as a name, not an index."""
        assert parse_pointer("/" + "9" * 5000) == ("9" * 5000,)

    def test_long_paths_are_not_cached(self) -> None:
        """Only short path texts are kept by the parse cache."""
        paths_module._PARSED_PATHS.clear()
        long_path = "a" * 100_000
        assert parse_path(long_path) == (long_path,)
        assert long_path not in paths_module._PARSED_PATHS
        assert parse_path("items[0].price") in paths_module._PARSED_PATHS.values()


class TestRedaction:
    """A programmer error's text never reaches an end user."""

    def test_no_output_for_users_shows_the_bug(self) -> None:
        """Messages and serialisers hide message, params and cause of a bug."""
        errors = Errors()
        detail = _programmer_error(errors)
        for output in _all_outputs(errors):
            text = json.dumps(output)
            assert "SELECT" not in text
            assert "sql_failed" not in text
            assert detail.reference in text

    def test_the_reference_ties_the_user_view_to_the_log(self) -> None:
        """The id shown to users is the one in repr, where the real text is."""
        errors = Errors()
        detail = _programmer_error(errors)
        problem = errors.to_problem_details()
        entry = problem["errors"][0]  # type: ignore[index]
        assert entry["reference"] == detail.reference
        assert entry["code"] == "internal_error"
        assert detail.reference in entry["detail"]
        assert BUG_TEXT in repr(detail)
        assert detail.reference in repr(detail)

    def test_jsonapi_puts_the_reference_in_meta(self) -> None:
        """JSON:API has no member for it, so the reference goes in meta."""
        errors = Errors()
        detail = _programmer_error(errors)
        assert errors.to_jsonapi()["errors"][0]["meta"] == {
            "reference": detail.reference
        }

    @given(st.text(min_size=8).filter(lambda t: t.strip() == t and "{" not in t))
    def test_any_bug_text_stays_hidden(self, secret: str) -> None:
        """Whatever the text of the bug, no user-facing output contains it."""
        errors = Errors()
        bug = errors.add(
            None, "bug", secret, bucket=Bucket.PROGRAMMER_ERROR, detail=secret
        )
        # What the outputs always say (keys, the generic message, the title)
        # is the same for a bug with neutral text; the secret must not be
        # part of that, or of the reference, for its absence to mean anything.
        neutral = Errors()
        neutral.add(None, "bug", "-", bucket=Bucket.PROGRAMMER_ERROR)
        fixed_text = json.dumps(_all_outputs(neutral), ensure_ascii=False)
        assume(secret not in fixed_text and secret not in bug.reference)
        for output in _all_outputs(errors):
            assert secret not in json.dumps(output, ensure_ascii=False)

    @given(collections_with_bugs(), st.booleans())
    def test_no_output_for_users_of_any_collection_shows_a_bug(
        self, errors: Errors, with_catalog: bool
    ) -> None:
        """No serialiser, message or str() shows a bug's code, text, params or cause."""
        # A catalog with a template for the bugs' codes, filled from their params.
        catalog = (
            {HIDDEN_TEXT: "{query}", f"sql_{HIDDEN_TEXT}": "{query}", "blank": "!"}
            if with_catalog
            else None
        )
        shown = [*_all_outputs(errors, catalog), str(errors), *map(str, errors)]
        text = json.dumps(shown, ensure_ascii=False)
        assert HIDDEN_TEXT not in text
        for detail in errors:
            if detail.bucket is Bucket.PROGRAMMER_ERROR:
                assert detail.reference in text  # what ties the user to the log

    def test_user_errors_are_not_redacted(self) -> None:
        """Only programmer errors are hidden; a user-visible one is shown."""
        errors = Errors()
        errors.add(
            None,
            "gateway_down",
            "The payment service is down; try again soon.",
            bucket=Bucket.USER_VISIBLE,
        )
        assert errors.full_messages() == [
            "The payment service is down; try again soon."
        ]


class TestBucket:
    """The ordering of buckets."""

    def test_order_by_severity(self) -> None:
        """user-fixable < user-visible < programmer error."""
        assert sorted(Bucket, reverse=True) == [
            Bucket.PROGRAMMER_ERROR,
            Bucket.USER_VISIBLE,
            Bucket.USER_FIXABLE,
        ]
        assert [bucket.severity for bucket in Bucket] == [0, 1, 2]
        assert Bucket.USER_VISIBLE >= Bucket.USER_FIXABLE

    def test_not_comparable_with_other_types(self) -> None:
        """Comparing with a non-Bucket is a TypeError, not a silent answer."""
        with pytest.raises(TypeError):
            _ = Bucket.USER_FIXABLE < 1  # type: ignore[operator]
