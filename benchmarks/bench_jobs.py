"""
What the job integrations add to a task, against the same task written by hand.

Two cases on each engine, in this one process: a task that succeeds, and a task
that fails transiently once and then succeeds. Huey runs on ``MemoryHuey``
worked by the consumer's own loop (dequeue, execute, move due retries from the
schedule back to the queue); Celery publishes each task to its in-memory
broker and runs every message through the tracer its worker builds, with an
in-memory result backend.

Three contenders in each case:

- "the engine alone": the plain task, retried the engine's own way (Huey's
  ``retries``, Celery's ``self.retry``). It keeps no status a user can read.
- "by hand, same statuses": the plain task, plus what a user writes to keep
  the status the integration keeps, in the same place, at the same moments:
  a JSON-safe status of the same fields, stored when the job is queued and at
  each change of state the engine does not record itself (Huey: queued,
  running, retrying, succeeded; Celery: queued and retrying, "running" and
  "succeeded" being Celery's own ``STARTED`` and ``SUCCESS``). It retries the
  engine's own way too, and does nothing else: no classifier, no hooks.
- "with outcome": the integration's task under a ``JobPolicy`` with no
  backoff, so only the bookkeeping differs.

The target, at most 10% added, is to the task kept by hand: against the engine
alone it would count the status writes themselves, which are what a readable
status costs however it is written (three pickled writes per Huey task, one
result-backend write per Celery task). Each case is shown twice: against the
task by hand, with the target, then all three against the engine alone, so
what the statuses cost stays in sight.

Retried, the engines' own ways cost more than the integration's: Huey stores an
error result with its formatted traceback for an exception it will retry, which
it does not for the integration's ``RetryTask``; Celery formats the cause's
traceback into the record of a retry that ``self.retry`` raises, which the
integration's unchained ``Retry`` leaves out.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_jobs.py``; ``--quick`` only proves the script runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import TYPE_CHECKING, Any

from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from celery import Celery
from celery.app.trace import build_tracer
from celery.signals import before_task_publish
from huey import MemoryHuey
from huey.signals import SIGNAL_ENQUEUED

import outcome
from outcome import RetryPolicy
from outcome.integrations import celery as outcome_celery
from outcome.integrations import huey as outcome_huey
from outcome.jobs import JobPolicy

if TYPE_CHECKING:
    from collections.abc import Callable

    from celery import Task as CeleryTask
    from huey.api import Task, TaskWrapper

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


def _status(
    job_id: str, name: str, state: str, attempt: int, **failure: object
) -> dict[str, object]:
    """The status a user keeps by hand: the fields of ``outcome.jobs.JobStatus``."""
    return {
        "job_id": job_id,
        "job_name": name,
        "state": state,
        "attempt": attempt,
        "retry_in": None,
        "reason": None,
        "kind": None,
        "bucket": None,
        "errors": [],
        **failure,
    }


# What a user keeps by hand of a transient failure: its kind, and a safe message.
RETRYING: dict[str, object] = {
    "retry_in": 0.0,
    "kind": "connection",
    "bucket": "user_visible",
    "errors": [
        {
            "field": None,
            "message": "A service we rely on could not be reached; try again shortly",
            "code": "connection",
        }
    ],
}
HAND_KEY = "status:"  # where the statuses kept by hand are stored


def _huey_plain(huey: MemoryHuey) -> tuple[TaskWrapper, TaskWrapper]:
    """The engine alone: a task that succeeds, and one retried Huey's own way."""
    flaky = Flaky()

    @huey.task()
    def plain_ok() -> int:
        return 1

    @huey.task(retries=1)
    def plain_retried() -> int:
        return flaky()

    return plain_ok, plain_retried


def _huey_by_hand(huey: MemoryHuey) -> tuple[TaskWrapper, TaskWrapper]:
    """The same tasks keeping their status by hand, in Huey's storage."""
    flaky = Flaky()

    @huey.signal(SIGNAL_ENQUEUED)
    def by_hand_queued(_signal: str, task: Task) -> None:
        if not task.retries:
            huey.put(HAND_KEY + task.id, _status(task.id, task.name, "queued", 1))

    @huey.task(context=True)
    def by_hand_ok(task: Task) -> int:
        key, job_id, name = HAND_KEY + task.id, task.id, task.name
        huey.put(key, _status(job_id, name, "running", 1))
        value = 1
        huey.put(key, _status(job_id, name, "succeeded", 1))
        return value

    @huey.task(retries=1, context=True)
    def by_hand_retried(task: Task) -> int:
        key, job_id, name = HAND_KEY + task.id, task.id, task.name
        attempt = 2 - task.retries  # Huey counts the retries left
        huey.put(key, _status(job_id, name, "running", attempt))
        try:
            value = flaky()
        except ConnectionResetError:
            huey.put(key, _status(job_id, name, "retrying", attempt, **RETRYING))
            raise
        huey.put(key, _status(job_id, name, "succeeded", attempt))
        return value

    return by_hand_ok, by_hand_retried


def _huey_outcome(huey: MemoryHuey) -> tuple[TaskWrapper, TaskWrapper]:
    """The same tasks through the integration."""
    flaky = Flaky()

    @outcome_huey.task(huey, policy=POLICY)
    def with_outcome_ok() -> int:
        return 1

    @outcome_huey.task(huey, policy=POLICY)
    def with_outcome_retried() -> int:
        return flaky()

    return with_outcome_ok, with_outcome_retried


def _huey_runners() -> dict[str, Callable[[], object]]:
    runners: dict[str, Callable[[], object]] = {}
    for kind, declare in (
        ("plain", _huey_plain),
        ("by hand", _huey_by_hand),
        ("outcome", _huey_outcome),
    ):
        # One Huey each, so that none pays for another's signal receivers.
        huey = MemoryHuey(f"bench-{kind}", results=True)
        for case, task in zip(("succeeds", "retried once"), declare(huey), strict=True):
            runners[f"huey, {case}, {kind}"] = _enqueue_and_drain(huey, task)
    return runners


def _enqueue_and_drain(huey: MemoryHuey, task: TaskWrapper) -> Callable[[], object]:
    def once() -> object:
        result = task()
        _drain(huey)
        return result

    return once


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


def _celery_plain(app: Celery) -> tuple[CeleryTask[[], int], CeleryTask[[], int]]:
    """The engine alone: a task that succeeds, and one retried Celery's own way."""
    flaky = Flaky()

    @app.task(name="bench.plain_ok")
    def plain_ok() -> int:
        return 1

    @app.task(bind=True, name="bench.plain_retried", max_retries=1)
    def plain_retried(self: CeleryTask[[], int]) -> int:
        try:
            return flaky()
        except ConnectionResetError as exc:
            raise self.retry(exc=exc, countdown=0) from None

    return plain_ok, plain_retried


def _celery_by_hand(app: Celery) -> tuple[CeleryTask[[], int], CeleryTask[[], int]]:
    """
    The same tasks keeping their status by hand, in the result backend.

    "running" and "succeeded" are Celery's own STARTED and SUCCESS, read from
    the task's record: stored by hand are "queued", when the task is
    published, and "retrying".
    """
    flaky = Flaky()

    def by_hand_queued(sender: str, headers: dict[str, Any], **_: object) -> None:
        if not headers.get("retries"):
            status = _status(headers["id"], sender, "queued", 1)
            app.backend.store_result(HAND_KEY + headers["id"], status, "STATUS")

    @app.task(name="bench.by_hand_ok")
    def by_hand_ok() -> int:
        return 1

    @app.task(bind=True, name="bench.by_hand_retried", max_retries=1)
    def by_hand_retried(self: CeleryTask[[], int]) -> int:
        try:
            return flaky()
        except ConnectionResetError as exc:
            job_id, attempt = self.request.id, self.request.retries + 1
            status = _status(job_id, self.name, "retrying", attempt, **RETRYING)
            app.backend.store_result(HAND_KEY + job_id, status, "STATUS")
            raise self.retry(exc=exc, countdown=0) from None

    for task in (by_hand_ok, by_hand_retried):
        before_task_publish.connect(by_hand_queued, sender=task.name, weak=False)
    return by_hand_ok, by_hand_retried


def _celery_outcome(app: Celery) -> tuple[CeleryTask[[], int], CeleryTask[[], int]]:
    """The same tasks through the integration."""
    flaky = Flaky()

    @outcome_celery.task(app, policy=POLICY, name="bench.outcome_ok")
    def with_outcome_ok() -> int:
        return 1

    @outcome_celery.task(app, policy=POLICY, name="bench.outcome_retried")
    def with_outcome_retried() -> int:
        return flaky()

    return with_outcome_ok, with_outcome_retried


def _celery_runners() -> dict[str, Callable[[], object]]:
    app = Celery("bench", broker="memory://", backend="cache+memory://")
    declared = {
        kind: declare(app)
        for kind, declare in (
            ("plain", _celery_plain),
            ("by hand", _celery_by_hand),
            ("outcome", _celery_outcome),
        )
    }
    drain = _celery_worker(app)

    def publish_and_drain(task: CeleryTask[[], int]) -> Callable[[], object]:
        def once() -> object:
            result = task.apply_async()
            drain()
            return result

        return once

    return {
        f"celery, {case}, {kind}": publish_and_drain(task)
        for kind, tasks in declared.items()
        for case, task in zip(("succeeds", "retried once"), tasks, strict=True)
    }


def main() -> int:
    """Print a markdown table of times and the integration / by hand ratio."""
    settings = parse_settings(__doc__, rounds=21, number=300, quick_number=5)
    # The engines log every task at INFO: not what is measured here.
    logging.disable(logging.CRITICAL)
    runners = {**_huey_runners(), **_celery_runners()}
    for name, runner in runners.items():
        runner()  # warm up, and fail loudly before timing if anything is wrong
        if name.startswith("huey, retried"):
            runner()
    contenders = [Contender(name, calls(runner)) for name, runner in runners.items()]
    comparisons = [
        comparison
        for engine in ("huey", "celery")
        for case in ("succeeds", "retried once")
        for comparison in (
            Comparison(
                f"{engine}, {case}",
                f"{engine}, {case}, by hand",
                (
                    Entry("by hand, same statuses", f"{engine}, {case}, by hand"),
                    Entry("with outcome", f"{engine}, {case}, outcome", target=TARGET),
                ),
            ),
            Comparison(
                f"{engine}, {case}, to the engine alone",
                f"{engine}, {case}, plain",
                (
                    Entry("the engine alone", f"{engine}, {case}, plain"),
                    Entry("by hand, same statuses", f"{engine}, {case}, by hand"),
                    Entry("with outcome", f"{engine}, {case}, outcome"),
                ),
            ),
        )
    ]
    misses = run(
        settings, contenders, comparisons, versions={"outcome": outcome.__version__}
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
