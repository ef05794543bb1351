"""
A Celery app on Redis for the tests that run its worker as a separate process.

The worker is started with ``celery -A tests.integrations.redis_app worker``;
the test process enqueues and reads results and statuses through the same
Redis. Its death handler pushes each job's id onto a Redis list, so the test
can count, across processes, how often it ran.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

from outcome import Retrying, RetryPolicy
from outcome.integrations.celery import task
from outcome.jobs import JobEvent, JobPolicy, death_handlers
from tests.integrations.scripted import capture

REDIS_URL = os.environ.get("OUTCOME_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Short, so that a task a killed worker held is handed on within seconds.
VISIBILITY_TIMEOUT = 4.0
QUEUE = os.environ.get("OUTCOME_TEST_QUEUE", "outcome-tests")

app = Celery("outcome-redis-tests", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # Sweep for the tasks of dead workers every second, not every 100.
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
)
store = redis.Redis.from_url(REDIS_URL)


def record_death(event: JobEvent) -> None:
    """Push the id of a job that gave up onto the deaths list."""
    store.rpush(f"{QUEUE}:deaths", event.job_id)


def record_retry(event: JobEvent) -> None:
    """Push each retry's countdown and whether it was capped onto the retries list."""
    store.rpush(f"{QUEUE}:retries", f"{event.retry_in}:{event.capped}")


POLICY = JobPolicy(
    retry=RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0),
    on_retry=record_retry,
)


if os.environ.get("OUTCOME_TEST_WORKER"):  # the worker's process only
    death_handlers.append(record_death)


@task(app, policy=POLICY, name="tests.redis.capture")
def capture_payment(url: str, order: str) -> str:
    """Capture through the scripted gateway at `url`."""
    return str(capture(url, order)["status"])


@task(app, policy=POLICY, name="tests.redis.hang_then_fail")
def hang_then_fail(marker: str) -> None:
    """Say it started, then hang on its first delivery; fail for good on the next."""
    if store.incr(f"{QUEUE}:{marker}:deliveries") == 1:
        store.set(f"{QUEUE}:{marker}:started", 1)
        time.sleep(60)  # killed with SIGKILL long before this ends
    msg = f"the order behind {marker} is gone"
    raise LookupError(msg)


@task(app, policy=POLICY, name="tests.redis.slow_once", soft_time_limit=1)
def slow_once(marker: str) -> str:
    """Run past the soft time limit on the first delivery, then end at once."""
    if store.incr(f"{QUEUE}:{marker}:deliveries") == 1:
        time.sleep(30)  # Celery's SoftTimeLimitExceeded cuts this at 1 s
    return "done"


# A retry loop inside a task, which would try a timeout again at once.
INNER = Retrying(policy=RetryPolicy(attempts=3), sleep=lambda _seconds: None)


@task(app, policy=POLICY, name="tests.redis.slow_in_a_loop", soft_time_limit=1)
def slow_in_a_loop(marker: str) -> str:
    """Run past the soft time limit inside a retry loop on the first delivery."""
    delivery = store.incr(f"{QUEUE}:{marker}:deliveries")

    def call() -> str:
        store.rpush(f"{QUEUE}:{marker}:calls", delivery)
        if delivery == 1:
            time.sleep(5)  # cut at 1 s; a call tried again would run on
        return "done"

    return INNER.call(call)
