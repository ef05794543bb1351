"""
Type-level tests of outcome.jobs and the job integrations, for both checkers.

Never run; see result_types.py for how negative cases are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_type

from huey import MemoryHuey  # pyright: ignore[reportMissingTypeStubs]

from outcome import Decision, Err, Errors, RetryPolicy
from outcome.integrations.huey import job_status, task
from outcome.jobs import (
    GiveUp,
    GiveUpReason,
    JobEvent,
    JobPolicy,
    JobState,
    JobStatus,
    RetryIn,
    death_handlers,
    plan_failure,
)


def tell_support(event: JobEvent) -> None:
    assert_type(event.job_name, str)
    assert_type(event.job_id, str)
    assert_type(event.args, tuple[object, ...])
    assert_type(event.kwargs, Mapping[str, object])
    assert_type(event.attempt, int)
    assert_type(event.state, JobState)
    assert_type(event.decision, Decision | None)
    assert_type(event.errors, Errors)
    assert_type(event.retry_in, float | None)
    assert_type(event.reason, GiveUpReason | None)
    assert_type(event.capped, bool)
    assert_type(event.to_status(), JobStatus)
    assert_type(event.to_status()["state"], JobState)


def policies() -> None:
    policy = JobPolicy(
        retry=RetryPolicy(attempts=5),
        on_retry=tell_support,
        on_give_up=print,
        on_status=tell_support,
    )
    assert_type(policy.retry, RetryPolicy)
    death_handlers.append(tell_support)
    step = plan_failure(policy, TimeoutError(), 1)
    assert_type(step, RetryIn | GiveUp)
    match step:
        case RetryIn(seconds=seconds):
            assert_type(seconds, float)
        case GiveUp(reason=reason):
            assert_type(reason, GiveUpReason)
    assert_type(
        plan_failure(policy, Err("declined"), 2, longest_wait=60.0), RetryIn | GiveUp
    )


def wrong_policies() -> None:
    JobPolicy(retry=3)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    JobPolicy(on_give_up=lambda: None)  # type: ignore[arg-type,misc]  # pyright: ignore[reportArgumentType]
    plan_failure(JobPolicy(), "boom", 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    plan_failure(RetryPolicy(), TimeoutError(), 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def huey_tasks() -> None:
    huey = MemoryHuey()

    @task(huey, policy=JobPolicy())
    def capture(order: str) -> str:
        return order

    assert_type(job_status(huey, "job-1"), JobStatus | None)
    task(huey, policy=RetryPolicy())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
