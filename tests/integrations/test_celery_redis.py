"""Celery workers in processes of their own, on the Redis at 127.0.0.1:6379."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
import redis

from tests.integrations.scripted import OK, SLOW_DOWN, scripted

# A server that asks for longer than the broker keeps a task waiting.
SLOW_DOWN_A_LOT = (429, {"Retry-After": "30"}, SLOW_DOWN[2])

REDIS_URL = os.environ.get("OUTCOME_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).parents[2]
WAIT = 30.0


def _redis() -> redis.Redis:
    """The test Redis, or a skip (a failure under CI=true) saying why."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = (
            f"no Redis answers at {REDIS_URL} ({exc}); start one or set "
            "OUTCOME_TEST_REDIS_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the Redis tests, not skip them")
        pytest.skip(reason)
    return client


@pytest.fixture
def store() -> redis.Redis:
    """The Redis the workers use."""
    return _redis()


@pytest.fixture
def queue(store: redis.Redis) -> Iterator[str]:
    """A queue of the test's own, and its keys removed afterwards."""
    name = f"outcome-tests-{uuid.uuid4().hex[:8]}"
    yield name
    for key in store.scan_iter(f"{name}*"):
        store.delete(key)


Worker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def worker(queue: str, tmp_path: Path) -> Iterator[Worker]:
    """Start `celery worker` processes on the test's queue; stop them after."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start(pool: str = "solo") -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen(  # noqa: S603 - our own test worker
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.integrations.redis_app",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname={queue}-{len(started)}@%h",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "OUTCOME_TEST_QUEUE": queue,
                "OUTCOME_TEST_WORKER": "1",
                "OUTCOME_TEST_REDIS_URL": REDIS_URL,
                "PYTHONPATH": str(ROOT),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for log in logs:
        log.close()


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT:g} s for {what}")
        time.sleep(0.05)


def test_retry_and_status_across_processes(
    store: redis.Redis, queue: str, worker: Worker
) -> None:
    """A worker process retries a real 429, and the status reaches this process."""
    from outcome.integrations.celery import job_status  # noqa: PLC0415
    from tests.integrations.redis_app import app, capture_payment  # noqa: PLC0415

    worker()
    with scripted(SLOW_DOWN, OK) as gateway:
        result = capture_payment.apply_async((gateway.url, "A-17"), queue=queue)
        assert result.get(timeout=WAIT) == "captured"
        assert gateway.seen == 2
    status = job_status(app, result.id)
    assert status is not None
    assert (status["state"], status["attempt"]) == ("succeeded", 2)
    assert store.llen(f"{queue}:deaths") == 0


def test_a_wait_past_the_visibility_timeout_is_capped(
    store: redis.Redis, queue: str, worker: Worker
) -> None:
    """Retry-After: 30 on a 4 s visibility timeout waits 4 s, and says it was cut."""
    from tests.integrations.redis_app import (  # noqa: PLC0415
        VISIBILITY_TIMEOUT,
        capture_payment,
    )

    worker()
    with scripted(SLOW_DOWN_A_LOT, OK) as gateway:
        result = capture_payment.apply_async((gateway.url, "A-17"), queue=queue)
        assert result.get(timeout=WAIT) == "captured"
    assert store.lrange(f"{queue}:retries", 0, -1) == [
        f"{VISIBILITY_TIMEOUT}:True".encode()
    ]


def test_a_killed_worker_loses_no_job(
    store: redis.Redis, queue: str, worker: Worker
) -> None:
    """SIGKILL mid-task: another worker runs it; its death handler runs once."""
    from outcome.integrations.celery import job_status  # noqa: PLC0415
    from tests.integrations.redis_app import app, hang_then_fail  # noqa: PLC0415

    first = worker()
    result = hang_then_fail.apply_async(("m1",), queue=queue)
    _until(lambda: store.get(f"{queue}:m1:started") is not None, "the task to start")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    worker()
    with pytest.raises(LookupError, match="the order behind m1 is gone"):
        result.get(timeout=WAIT)
    assert int(store.get(f"{queue}:m1:deliveries") or 0) == 2
    _until(lambda: store.llen(f"{queue}:deaths") >= 1, "the death handler")
    time.sleep(1.0)  # a second run of the handler would land by now
    assert store.lrange(f"{queue}:deaths", 0, -1) == [result.id.encode()]
    status = job_status(app, result.id)
    assert status is not None
    assert (status["state"], status["reason"]) == ("failed", "discarded")


@pytest.mark.parametrize("name", ["slow_once", "slow_in_a_loop"])
def test_the_soft_time_limit_is_a_timeout(
    store: redis.Redis, queue: str, worker: Worker, name: str
) -> None:
    """
    A task cut by its soft time limit (a prefork pool's) is retried, then ends.

    In ``slow_in_a_loop`` the limit comes inside a retry loop, which lets it
    through at once: the task is retried, not the call.
    """
    from outcome.integrations.celery import job_status  # noqa: PLC0415
    from tests.integrations import redis_app  # noqa: PLC0415

    worker(pool="prefork")
    result = getattr(redis_app, name).apply_async((name,), queue=queue)
    assert result.get(timeout=WAIT) == "done"
    assert int(store.get(f"{queue}:{name}:deliveries") or 0) == 2
    if name == "slow_in_a_loop":  # one call per delivery
        assert store.lrange(f"{queue}:{name}:calls", 0, -1) == [b"1", b"2"]
    assert len(store.lrange(f"{queue}:retries", 0, -1)) == 1
    status = job_status(redis_app.app, result.id)
    assert status is not None
    assert (status["state"], status["attempt"]) == ("succeeded", 2)
    assert store.llen(f"{queue}:deaths") == 0
