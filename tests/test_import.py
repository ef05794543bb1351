"""Tests for what `import outcome` imports, and what waits until it is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest


def _in_a_new_interpreter(script: str, **environment: str) -> object:
    """Run `script` in a new interpreter; return what it printed, read as JSON."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "OUTCOME_REFERENCE_KEY"
    }
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
        env={**env, **environment},
    )
    return json.loads(completed.stdout)


class TestImport:
    """`import outcome` imports no more than it needs."""

    def test_no_asyncio_and_no_email(self) -> None:
        """Neither asyncio nor any part of the email package is imported."""
        loaded = _in_a_new_interpreter(
            """
            import json, sys
            import outcome
            print(json.dumps(sorted(sys.modules)))
            """
        )
        assert isinstance(loaded, list)
        assert "asyncio" not in loaded
        assert [name for name in loaded if name.split(".")[0] == "email"] == []

    @pytest.mark.parametrize("secret", ["", "s3cret"])
    def test_nothing_only_a_rare_path_needs(self, secret: str) -> None:
        """Modules only a rare call needs (a retry, a date, a title) wait for it."""
        environment = {"OUTCOME_REFERENCE_KEY": secret} if secret else {}
        loaded = _in_a_new_interpreter(
            """
            import json, sys
            import outcome
            print(json.dumps(sorted(sys.modules)))
            """,
            **environment,
        )
        assert isinstance(loaded, list)
        heavy = {"random", "hashlib", "_hashlib", "socket", "selectors", "http"}
        heavy |= {"datetime", "_datetime"}
        assert heavy.intersection(loaded) == set()

    def test_no_third_party_module_but_attrs_and_typing_extensions(self) -> None:
        """Outside the standard library, only attrs and typing-extensions load."""
        loaded = _in_a_new_interpreter(
            """
            import json, sys
            before = set(sys.modules)
            import outcome
            new = {name.split(".")[0] for name in set(sys.modules) - before}
            print(json.dumps(sorted(new - set(sys.stdlib_module_names))))
            """
        )
        assert loaded == ["attr", "attrs", "outcome", "typing_extensions"]


class TestLazyAsyncio:
    """What needs asyncio finds it once the program has imported it."""

    def test_default_sleep_async(self) -> None:
        """call_async waits with asyncio.sleep, which outcome did not import."""
        printed = _in_a_new_interpreter(
            """
            import json, sys
            from outcome import Err, Ok, Retrying, RetryPolicy
            imported_first = "asyncio" in sys.modules
            import asyncio
            replies = iter([Err(ConnectionResetError()), Ok("paid")])
            async def charge():
                return next(replies)
            retrying = Retrying(policy=RetryPolicy(base_delay=0.001, max_delay=0.001))
            result = asyncio.run(retrying.call_async(charge))
            print(json.dumps([imported_first, repr(result)]))
            """
        )
        assert printed == [False, "Ok('paid')"]

    def test_saga_cancelled_while_compensating(self) -> None:
        """A cancel during compensation waits for the undos, then propagates."""
        printed = _in_a_new_interpreter(
            """
            import json, sys
            from outcome import Err, ErrorDetail, Errors, Ok, Saga, Step
            imported_first = "asyncio" in sys.modules
            import asyncio
            events = []
            async def release(ctx, hold):
                events.append("releasing")
                for _ in range(3):
                    await asyncio.sleep(0)
                events.append("released")
            async def charge(ctx):
                return Err(Errors([ErrorDetail("card", "declined")]))
            saga = Saga([Step("reserve", lambda ctx: Ok("hold"), release),
                         Step("charge", charge)])
            async def main():
                task = asyncio.ensure_future(saga.run_async({}))
                while "releasing" not in events:
                    await asyncio.sleep(0)
                task.cancel("shutting down")
                try:
                    await task
                except asyncio.CancelledError as cancel:
                    return [cancel.args[0], list(cancel.saga_failure.compensated)]
            print(json.dumps([imported_first, asyncio.run(main()), events]))
            """
        )
        assert printed == [
            False,
            ["shutting down", ["reserve"]],
            ["releasing", "released"],
        ]

    def test_saga_without_asyncio(self) -> None:
        """A run_async whose steps and undos never wait does not import asyncio."""
        printed = _in_a_new_interpreter(
            """
            import json, sys
            from outcome import Err, ErrorDetail, Errors, Ok, Saga, Step
            undone = []
            declined = Errors([ErrorDetail("card", "declined")])
            def release(ctx, log):
                undone.append(log)
            saga = Saga([
                Step("reserve", lambda ctx: Ok("hold"), release),
                Step("charge", lambda ctx: Err(declined)),
            ])
            coroutine = saga.run_async({})
            try:
                coroutine.send(None)
            except StopIteration as stop:
                result = stop.value
            print(json.dumps([
                list(result.err_value.compensated), undone, "asyncio" in sys.modules
            ]))
            """
        )
        assert printed == [["reserve"], ["hold"], False]
