"""
Type-level tests of the Dramatiq and RQ job integrations, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from typing import assert_type

from dramatiq import Actor, Message
from dramatiq.brokers.stub import StubBroker
from redis import Redis
from rq.job import Job

from outcome import RetryPolicy
from outcome.integrations import dramatiq as outcome_dramatiq
from outcome.integrations import rq as outcome_rq
from outcome.jobs import JobPolicy, JobStatus


def dramatiq_actors() -> None:
    broker = StubBroker()

    @outcome_dramatiq.actor(broker=broker, policy=JobPolicy(), queue_name="payments")
    def capture(order: str, amount: int, /) -> str:
        return f"{order}: {amount}"

    assert_type(capture, Actor[[str, int], str])
    assert_type(capture.send("A-17", 5), Message[str])
    assert_type(capture("A-17", 5), str)
    assert_type(outcome_dramatiq.job_status(broker, "m-1"), JobStatus | None)


def wrong_dramatiq_actors() -> None:
    broker = StubBroker()

    @outcome_dramatiq.actor(broker=broker, policy=JobPolicy())
    def capture(order: str) -> str:
        return order

    capture.send(17)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    outcome_dramatiq.actor(policy=RetryPolicy())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    outcome_dramatiq.job_status(broker, 17)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def rq_jobs() -> None:
    connection = Redis()

    @outcome_rq.job(queue="payments", connection=connection, policy=JobPolicy())
    def capture(order: str, amount: int, /) -> str:
        return f"{order}: {amount}"

    assert_type(capture, outcome_rq.JobFunction[[str, int], str])
    assert_type(capture("A-17", 5), str)
    assert_type(capture.enqueue("A-17", 5), Job)
    assert_type(capture.name, str)
    assert_type(outcome_rq.job_status(connection, "j-1"), JobStatus | None)


def wrong_rq_jobs() -> None:
    connection = Redis()

    @outcome_rq.job(queue="payments", connection=connection, policy=JobPolicy())
    def capture(order: str) -> str:
        return order

    capture.enqueue(17)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    capture("A-17", "extra")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    outcome_rq.job(queue="payments", policy=RetryPolicy())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
