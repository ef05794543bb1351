"""
What the job integrations add to a task, against the engine running it alone.

Two cases on each engine, in this one process: a task that succeeds, and a task
that fails transiently once and then succeeds. Huey runs on ``MemoryHuey``
worked by the consumer's own loop (dequeue, execute, move due retries from the
schedule back to the queue); Celery publishes each task to its in-memory
broker and runs every message through the tracer its worker builds, with an
in-memory result backend. The plain tasks retry
the engine's own way (Huey's ``retries``, Celery's ``self.retry``); the
integration's retry under a ``JobPolicy`` with no backoff, so only the
bookkeeping differs. Target: what the integration adds is at most 10% of the
engine's own cost per task.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_jobs.py``; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import TYPE_CHECKING

from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from celery import Celery
from celery.app.trace import build_tracer
from huey import MemoryHuey

import outcome
from outcome import RetryPolicy
from outcome.integrations import celery as outcome_celery
from outcome.integrations import huey as outcome_huey
from outcome.jobs import JobPolicy

if TYPE_CHECKING:
    from collections.abc import Callable

    from celery import Task

TARGET = 1.10
POLICY = JobPolicy(retry=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0))
FAR_FUTURE = dt.datetime(9999, 1, 1)  # noqa: DTZ001 - Huey's naive UTC


class Flaky:
    """Fails every other call, transiently: the first attempt of each task."""

    def __init__(self) -> None:
        """Start with no calls."""
        self.calls = 0

    def __call__(self) -> int:
        """Raise on odd calls, return on even ones."""
        self.calls += 1
        if self.calls % 2:
            raise ConnectionResetError
        return self.calls


def _drain(huey: MemoryHuey) -> None:
    """Work the queue as Huey's consumer does, until nothing is left to run."""
    while True:
        task = huey.dequeue()
        if task is None:
            due = huey.read_schedule(FAR_FUTURE)
            if not due:
                return
            for waiting in due:
                huey.enqueue(waiting)
            continue
        huey.execute(task)


def _huey_runners() -> dict[str, Callable[[], object]]:
    huey = MemoryHuey("bench", results=True)
    plain_flaky, outcome_flaky = Flaky(), Flaky()

    @huey.task()
    def plain_ok() -> int:
        return 1

    @huey.task(retries=1)
    def plain_retried() -> int:
        return plain_flaky()

    @outcome_huey.task(huey, policy=POLICY)
    def with_outcome_ok() -> int:
        return 1

    @outcome_huey.task(huey, policy=POLICY)
    def with_outcome_retried() -> int:
        return outcome_flaky()

    def enqueue_and_drain(task: Callable[[], object]) -> Callable[[], object]:
        def once() -> object:
            result = task()
            _drain(huey)
            return result

        return once

    return {
        "huey, succeeds, plain": enqueue_and_drain(plain_ok),
        "huey, succeeds, outcome": enqueue_and_drain(with_outcome_ok),
        "huey, retried once, plain": enqueue_and_drain(plain_retried),
        "huey, retried once, outcome": enqueue_and_drain(with_outcome_retried),
    }


def _celery_worker(app: Celery) -> Callable[[], None]:
    """
    Work the default queue as a Celery worker does, until nothing is left.

    Each message is run through the tracer the worker builds for its task
    (``build_tracer``, not eager), with the message's headers as the request,
    so the engine stores results and publishes retries as it does in a worker.
    A retry's countdown of 0 is due at once.
    """
    tracers = {
        name: build_tracer(name, declared, app=app, eager=False, propagate=False)
        for name, declared in app.tasks.items()
        if name.startswith("bench.")
    }
    connection = app.connection_for_read()
    queue = connection.SimpleQueue(app.conf.task_default_queue)

    def drain() -> None:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return
            headers = message.headers
            args, kwargs, _embed = message.decode()
            request = {**headers, "delivery_info": message.delivery_info}
            tracers[headers["task"]](headers["id"], args, kwargs, request)
            message.ack()

    return drain


def _celery_runners() -> dict[str, Callable[[], object]]:
    app = Celery("bench", broker="memory://", backend="cache+memory://")
    plain_flaky, outcome_flaky = Flaky(), Flaky()

    @app.task(name="bench.plain_ok")
    def plain_ok() -> int:
        return 1

    @app.task(bind=True, name="bench.plain_retried", max_retries=1)
    def plain_retried(self: Task[[], int]) -> int:
        try:
            return plain_flaky()
        except ConnectionResetError as exc:
            raise self.retry(exc=exc, countdown=0) from None

    @outcome_celery.task(app, policy=POLICY, name="bench.outcome_ok")
    def with_outcome_ok() -> int:
        return 1

    @outcome_celery.task(app, policy=POLICY, name="bench.outcome_retried")
    def with_outcome_retried() -> int:
        return outcome_flaky()

    drain = _celery_worker(app)

    def publish_and_drain(declared: Task[[], int]) -> Callable[[], object]:
        def once() -> object:
            result = declared.apply_async()
            drain()
            return result

        return once

    return {
        "celery, succeeds, plain": publish_and_drain(plain_ok),
        "celery, succeeds, outcome": publish_and_drain(with_outcome_ok),
        "celery, retried once, plain": publish_and_drain(plain_retried),
        "celery, retried once, outcome": publish_and_drain(with_outcome_retried),
    }


def main() -> int:
    """Print a markdown table of times and the integration / engine ratio."""
    settings = parse_settings(__doc__, rounds=21, number=300, quick_number=5)
    # The engines log every task at INFO: not what is measured here.
    logging.disable(logging.CRITICAL)
    runners = {**_huey_runners(), **_celery_runners()}
    for name, runner in runners.items():
        runner()  # warm up, and fail loudly before timing if anything is wrong
        if name.startswith("huey, retried") and not name.endswith("plain"):
            runner()
    contenders = [Contender(name, calls(runner)) for name, runner in runners.items()]
    comparisons = [
        Comparison(
            f"{engine}, {case}",
            f"{engine}, {case}, plain",
            (
                Entry("the engine alone", f"{engine}, {case}, plain"),
                Entry("with outcome", f"{engine}, {case}, outcome", target=TARGET),
            ),
        )
        for engine in ("huey", "celery")
        for case in ("succeeds", "retried once")
    ]
    misses = run(
        settings, contenders, comparisons, versions={"outcome": outcome.__version__}
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
