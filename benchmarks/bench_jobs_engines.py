"""
What the Dramatiq and RQ integrations add to a job, against the engine alone.

Two cases on each engine, in this one process: a job that succeeds, and a job
that fails transiently once and then succeeds. Dramatiq runs on a
``StubBroker`` with Dramatiq's default middleware and a ``Results``
middleware, each message taken through the steps its worker takes (consume,
``process_message`` middleware, the actor, ack or nack, moving a due retry
from the delay queue back to its queue), with no worker threads. RQ runs on
the Redis at ``OUTCOME_TEST_REDIS_URL`` (``redis://127.0.0.1:6379/15``), each
job dequeued and executed by a ``SimpleWorker`` as its work loop does; with no
Redis, its rows are left out and the output says so. The plain jobs retry the
engine's own way from inside (``raise dramatiq.Retry(delay=0)``, ``return
rq.Retry(max=1)``); the integration's retry under a ``JobPolicy`` with no
backoff, by the same means, so only the bookkeeping differs: classifying,
the hooks, and storing each status (in Dramatiq's results backend; with RQ's
job). Dramatiq is measured twice: with a ``Results`` middleware, where each
job stores three statuses (queued, running, succeeded) through the results
backend, and without one, where none is stored and only the bookkeeping is
left. Target: what the integration adds is at most 10% of the engine's own
cost per job.

The figures are CPU time of this process: with RQ, Redis's own work happens
in its server and is not counted, nor are the round trips' waits, so the RQ
ratios are the integration's share of what the worker itself spends.

Timing is the shared harness (``_harness.py``). Run it with
``python benchmarks/bench_jobs_engines.py``; ``--quick`` only proves the
script runs.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from typing import TYPE_CHECKING, cast

import dramatiq
import redis
import rq
from _harness import Comparison, Contender, Entry, calls, finish, parse_settings, run
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, q_name
from dramatiq.results import Results
from dramatiq.results.backends import StubBackend
from rq import Queue, Retry, SimpleWorker

import outcome
from outcome import RetryPolicy
from outcome.integrations import dramatiq as outcome_dramatiq
from outcome.integrations import rq as outcome_rq
from outcome.jobs import JobPolicy

if TYPE_CHECKING:
    from collections.abc import Callable

    from dramatiq.broker import Consumer, MessageProxy
    from dramatiq.middleware import Middleware

TARGET = 1.10
DRAMATIQ = "dramatiq"
# With no Results middleware no status is stored: the bookkeeping alone.
DRAMATIQ_UNKEPT = "dramatiq, no results backend"
POLICY = JobPolicy(retry=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0))
REDIS_URL = os.environ.get("OUTCOME_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# RQ's worker imports a job's function by name: RQ's jobs live here.
RQ_CONNECTION = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
RQ_QUEUE = Queue(f"outcome-bench-{uuid.uuid4().hex[:8]}", connection=RQ_CONNECTION)
RQ_TTL = 60  # seconds RQ keeps each job of the run


class Flaky:
    """Fails every other call, transiently: the first attempt of each job."""

    def __init__(self) -> None:
        """Start with no calls."""
        self.calls = 0

    def __call__(self) -> int:
        """Raise on odd calls, return on even ones."""
        self.calls += 1
        if self.calls % 2:
            raise ConnectionResetError
        return self.calls


def _process(
    broker: dramatiq.Broker, consumer: Consumer, message: MessageProxy
) -> None:
    """What a Dramatiq worker thread does with one message, and its consumer after."""
    try:
        broker.emit_before("process_message", message)
        actor = broker.get_actor(message.actor_name)
        result = actor(*message.args, **message.kwargs)
        broker.emit_after("process_message", message, result=result)
    except BaseException as exc:  # noqa: BLE001 - as the worker, which logs it
        message.stuff_exception(exc)
        broker.emit_after("process_message", message, exception=exc)
    finally:
        if message.failed:
            broker.emit_before("nack", message)
            consumer.nack(message)
            broker.emit_after("nack", message)
        else:
            broker.emit_before("ack", message)
            consumer.ack(message)
            broker.emit_after("ack", message)
        message.clear_exception()


def _dramatiq_worker(broker: StubBroker, queue: str) -> Callable[[], None]:
    """Work `queue` and its delay queue as Dramatiq's worker does, until empty."""
    consumer = broker.consume(queue, timeout=0)
    delayed = broker.consume(dq_name(queue), timeout=0)

    def drain() -> None:
        while True:
            message = next(consumer)
            if message is not None:
                _process(broker, consumer, message)
                continue
            waiting = next(delayed)
            if waiting is None:
                return
            # A retry of no delay is due at once: moved to its queue, as the
            # worker moves a delayed message whose eta has passed.
            moved = waiting.copy(queue_name=q_name(waiting.queue_name))
            del moved.options["eta"]
            broker.enqueue(moved)
            delayed.ack(waiting)

    return drain


def _dramatiq_runners(engine: str, *, results: bool) -> dict[str, Callable[[], object]]:
    broker = StubBroker()
    if results:
        broker.add_middleware(
            cast("Callable[..., Middleware]", Results)(backend=StubBackend())
        )
    plain_flaky, outcome_flaky = Flaky(), Flaky()

    @dramatiq.actor(broker=broker)
    def plain_ok() -> None:
        pass

    @dramatiq.actor(broker=broker)
    def plain_retried() -> None:
        try:
            plain_flaky()
        except ConnectionResetError:
            raise dramatiq.Retry(delay=0) from None

    @outcome_dramatiq.actor(broker=broker, policy=POLICY)
    def with_outcome_ok() -> None:
        pass

    @outcome_dramatiq.actor(broker=broker, policy=POLICY)
    def with_outcome_retried() -> None:
        outcome_flaky()

    drain = _dramatiq_worker(broker, "default")

    def send_and_drain(declared: dramatiq.Actor[[], None]) -> Callable[[], object]:
        def once() -> object:
            message = declared.send()
            drain()
            return message

        return once

    return {
        f"{engine}, succeeds, plain": send_and_drain(plain_ok),
        f"{engine}, succeeds, outcome": send_and_drain(with_outcome_ok),
        f"{engine}, retried once, plain": send_and_drain(plain_retried),
        f"{engine}, retried once, outcome": send_and_drain(with_outcome_retried),
    }


RQ_PLAIN_FLAKY, RQ_OUTCOME_FLAKY = Flaky(), Flaky()


def rq_plain_ok() -> int:
    """An RQ job of RQ's own."""
    return 1


def rq_plain_retried() -> object:
    """Ask RQ for one retry, from inside, on every other call."""
    try:
        return RQ_PLAIN_FLAKY()
    except ConnectionResetError:
        return Retry(max=1)


@outcome_rq.job(queue=RQ_QUEUE, policy=POLICY, result_ttl=RQ_TTL, failure_ttl=RQ_TTL)
def rq_outcome_ok() -> int:
    """The same job under the policy."""
    return 1


@outcome_rq.job(queue=RQ_QUEUE, policy=POLICY, result_ttl=RQ_TTL, failure_ttl=RQ_TTL)
def rq_outcome_retried() -> int:
    """Fail transiently on every other call, under the policy."""
    return RQ_OUTCOME_FLAKY()


def _rq_runners() -> dict[str, Callable[[], object]]:
    worker = SimpleWorker([RQ_QUEUE], connection=RQ_CONNECTION)

    def drain() -> None:
        # The work loop of a worker in burst mode, without its maintenance.
        while (found := worker.dequeue_job_and_maintain_ttl(None)) is not None:
            worker.execute_job(*found)

    def plain(function: Callable[[], object]) -> Callable[[], object]:
        def once() -> object:
            job = RQ_QUEUE.enqueue_call(function, result_ttl=RQ_TTL, failure_ttl=RQ_TTL)
            drain()
            return job

        return once

    def with_outcome(declared: outcome_rq.JobFunction[[], int]) -> Callable[[], object]:
        def once() -> object:
            job = declared.enqueue()
            drain()
            return job

        return once

    return {
        "rq, succeeds, plain": plain(rq_plain_ok),
        "rq, succeeds, outcome": with_outcome(rq_outcome_ok),
        "rq, retried once, plain": plain(rq_plain_retried),
        "rq, retried once, outcome": with_outcome(rq_outcome_retried),
    }


def _redis_answers() -> str | None:
    """Why RQ cannot be measured, or None when Redis answers."""
    try:
        RQ_CONNECTION.ping()
    except redis.RedisError as exc:
        return f"no Redis answers at {REDIS_URL} ({exc}): the RQ rows are left out"
    return None


def _forget_rq_jobs() -> None:
    """Remove what the RQ jobs left in Redis."""
    for key in RQ_CONNECTION.scan_iter("rq:job:*"):
        origin = cast("bytes | None", RQ_CONNECTION.hget(key, "origin"))
        if origin == RQ_QUEUE.name.encode():
            job_id = key.decode().split(":")[2]
            for owned in RQ_CONNECTION.scan_iter(f"rq:*{job_id}*"):
                RQ_CONNECTION.delete(owned)
    for key in RQ_CONNECTION.scan_iter(f"*{RQ_QUEUE.name}*"):
        RQ_CONNECTION.delete(key)


def main() -> int:
    """Print a markdown table of times and the integration / engine ratio."""
    settings = parse_settings(__doc__, rounds=21, number=300, quick_number=5)
    # The engines log every job at INFO: not what is measured here.
    logging.disable(logging.CRITICAL)
    runners = {
        **_dramatiq_runners(DRAMATIQ, results=True),
        **_dramatiq_runners(DRAMATIQ_UNKEPT, results=False),
    }
    engines = [DRAMATIQ, DRAMATIQ_UNKEPT]
    notes: list[str] = []
    missing = _redis_answers()
    if missing is None:
        runners.update(_rq_runners())
        engines.append("rq")
    else:
        notes.append(missing)
    try:
        for runner in runners.values():
            runner()  # warm up, and fail loudly before timing if anything is wrong
        # RQ's client-side cost per job is some fifty times Dramatiq's here.
        rq_number = max(1, settings.number // 20)
        contenders = [
            Contender(name, calls(runner), number=rq_number)
            if name.startswith("rq")
            else Contender(name, calls(runner))
            for name, runner in runners.items()
        ]
        comparisons = [
            Comparison(
                f"{engine}, {case}",
                f"{engine}, {case}, plain",
                (
                    Entry("the engine alone", f"{engine}, {case}, plain"),
                    Entry("with outcome", f"{engine}, {case}, outcome", target=TARGET),
                ),
            )
            for engine in engines
            for case in ("succeeds", "retried once")
        ]
        misses = run(
            settings,
            contenders,
            comparisons,
            versions={
                "outcome": outcome.__version__,
                "dramatiq": dramatiq.__version__,
                "rq": rq.__version__,
            },
            notes=notes,
        )
    finally:
        if missing is None:
            _forget_rq_jobs()
        RQ_CONNECTION.close()
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
