"""
The recipes of docs/retry.md, run against the real stamina, tenacity and Celery.

The recipes are loaded from the page itself, so what it shows is what runs here;
a traceback into a recipe names its line in docs/retry.md. The last tests count
the requests that the openai and anthropic clients make with and without their
own retries, as the docs' section on retry budgets says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2
import openai
import pytest
import stamina
from celery.exceptions import Retry

from outcome import Retrying, classify
from tests.markdown_code import load_section

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

RETRY_PAGE = Path(__file__).resolve().parent.parent / "docs" / "retry.md"
recipes = load_section(RETRY_PAGE, "Recipes", "retry_recipes")

transient = recipes.transient
fetch_report_with_stamina = recipes.fetch_report_with_stamina
fetch_report_with_tenacity = recipes.fetch_report_with_tenacity
app = recipes.app
policy = recipes.policy
summarise_report = recipes.summarise_report


# Test doubles -------------------------------------------------------------------


class Response:
    """The response of a failed HTTP call: a status and headers."""

    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        self.status_code = status_code
        self.headers = headers


class APIStatusError(Exception):
    """Shaped like an SDK's error for a failed call: a status and the response."""

    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"the reports API answered {status_code}")
        self.status_code = status_code
        self.response = Response(status_code, headers or {})


def rate_limited(retry_after: str) -> APIStatusError:
    """A 429 whose Retry-After asks to wait `retry_after` seconds."""
    return APIStatusError(429, {"Retry-After": retry_after})


class ScriptedClient:
    """A reports client that raises the given failures in order, then answers."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def fetch(self, report_id: str) -> dict[str, str]:
        """Raise the next scripted failure, or return the report."""
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"id": report_id, "status": "ready"}


REPORT = {"id": "r-7", "status": "ready"}


class TestStamina:
    """stamina.retry(on=transient)."""

    @pytest.fixture(autouse=True)
    def no_backoff(self) -> Iterator[None]:
        """Run stamina in testing mode: no sleeping, the attempts given."""
        with stamina.set_testing(True, attempts=3):
            yield

    def test_transient_failures_are_retried(self) -> None:
        """Two timeouts, then success: three calls and the report."""
        client = ScriptedClient(TimeoutError("slow"), APIStatusError(503))

        assert fetch_report_with_stamina(client, "r-7") == REPORT
        assert client.calls == 3

    def test_other_failures_are_raised_at_once(self) -> None:
        """A bug is raised on the first call, not retried."""
        client = ScriptedClient(KeyError("report_id"))

        with pytest.raises(KeyError):
            fetch_report_with_stamina(client, "r-7")
        assert client.calls == 1

    def test_attempts_run_out(self) -> None:
        """The last transient failure is raised once the attempts are spent."""
        client = ScriptedClient(*(TimeoutError(str(n)) for n in range(3)))

        with pytest.raises(TimeoutError, match="2"):
            fetch_report_with_stamina(client, "r-7")
        assert client.calls == 3

    def test_a_wait_too_long_is_not_retried(self) -> None:
        """A Retry-After beyond the classifier's maximum is raised for rescheduling."""
        client = ScriptedClient(rate_limited("3600"))

        with pytest.raises(APIStatusError) as caught:
            fetch_report_with_stamina(client, "r-7")
        assert classify(caught.value).defer
        assert client.calls == 1

    @pytest.mark.parametrize(
        ("failure", "answer"),
        [
            (rate_limited("7"), 7.0),
            (TimeoutError(), True),
            (rate_limited("3600"), False),
            (KeyError("report_id"), False),
        ],
        ids=["retry-after", "transient", "deferred", "bug"],
    )
    def test_the_hook_answers(self, failure: Exception, answer: bool | float) -> None:
        """The hook returns the Retry-After as a custom backoff, else a bool."""
        assert transient(failure) == answer
        assert type(transient(failure)) is type(answer)


class TestTenacity:
    """tenacity.retry(retry=retry_if_exception(is_transient), wait=wait_retry_after)."""

    @staticmethod
    def fetch(client: ScriptedClient, sleeps: list[float]) -> dict[str, str]:
        """Call the recipe with a sleep that records instead of sleeping."""
        return fetch_report_with_tenacity.retry_with(sleep=sleeps.append)(client, "r-7")

    def test_transient_failures_are_retried(self) -> None:
        """Two transient failures, then success: three calls, two sleeps."""
        client = ScriptedClient(TimeoutError("slow"), ConnectionResetError())
        sleeps: list[float] = []

        assert self.fetch(client, sleeps) == REPORT
        assert client.calls == 3
        assert len(sleeps) == 2

    def test_retry_after_is_honoured(self) -> None:
        """The wait is the server's Retry-After when it is longer than the backoff."""
        client = ScriptedClient(rate_limited("7"))
        sleeps: list[float] = []

        assert self.fetch(client, sleeps) == REPORT
        assert sleeps == [7.0]

    def test_other_failures_are_raised_at_once(self) -> None:
        """A bug is raised, itself rather than a RetryError, on the first call."""
        client = ScriptedClient(KeyError("report_id"))
        sleeps: list[float] = []

        with pytest.raises(KeyError):
            self.fetch(client, sleeps)
        assert (client.calls, sleeps) == (1, [])

    def test_a_wait_too_long_is_not_retried(self) -> None:
        """A Retry-After beyond the classifier's maximum is raised for rescheduling."""
        client = ScriptedClient(rate_limited("3600"))
        sleeps: list[float] = []

        with pytest.raises(APIStatusError):
            self.fetch(client, sleeps)
        assert (client.calls, sleeps) == (1, [])

    def test_attempts_run_out(self) -> None:
        """The fifth transient failure is raised, after four sleeps."""
        client = ScriptedClient(*(TimeoutError(str(n)) for n in range(5)))
        sleeps: list[float] = []

        with pytest.raises(TimeoutError, match="4"):
            self.fetch(client, sleeps)
        assert (client.calls, len(sleeps)) == (5, 4)


class TestCelery:
    """A bound task that calls self.retry only for transient failures."""

    @pytest.fixture
    def client(self, monkeypatch: pytest.MonkeyPatch) -> ScriptedClient:
        """Put a scripted client where the task finds its client."""
        scripted = ScriptedClient()
        monkeypatch.setattr(recipes, "reports_client", lambda: scripted)
        return scripted

    @pytest.fixture
    def eager(self) -> Iterator[None]:
        """Run tasks in the calling process, re-running retries at once."""
        app.conf.update(task_always_eager=True, task_eager_propagates=False)
        yield
        app.conf.update(task_always_eager=False)

    @pytest.fixture
    def eager_propagating(self) -> Iterator[None]:
        """Run tasks in the calling process, raising what the task raises."""
        app.conf.update(task_always_eager=True, task_eager_propagates=True)
        yield
        app.conf.update(task_always_eager=False, task_eager_propagates=False)

    @pytest.mark.usefixtures("eager")
    def test_transient_failures_are_retried(self, client: ScriptedClient) -> None:
        """Two transient failures, then success: three runs and the report."""
        client.failures = [TimeoutError("slow"), APIStatusError(503)]

        assert summarise_report.delay("r-7").get() == REPORT
        assert client.calls == 3

    @pytest.mark.usefixtures("eager")
    def test_retries_run_out(self, client: ScriptedClient) -> None:
        """After max_retries, the task fails with the last transient failure."""
        client.failures = [TimeoutError(str(n)) for n in range(10)]

        result = summarise_report.delay("r-7")

        assert result.state == "FAILURE"
        with pytest.raises(TimeoutError, match="4"):
            result.get()
        assert client.calls == policy.attempts

    @pytest.mark.usefixtures("eager")
    def test_other_failures_are_not_retried(self, client: ScriptedClient) -> None:
        """A bug fails the task on its first run."""
        client.failures = [KeyError("report_id")]

        result = summarise_report.delay("r-7")

        with pytest.raises(KeyError):
            result.get()
        assert client.calls == 1

    @pytest.mark.usefixtures("eager_propagating")
    def test_countdown_is_the_retry_after(self, client: ScriptedClient) -> None:
        """The retry is scheduled after the server's Retry-After, however long."""
        client.failures = [rate_limited("3600")]

        with pytest.raises(Retry) as caught:
            summarise_report.delay("r-7")

        # The server's wait, and at most a second of jitter on top.
        assert 3600.0 <= caught.value.when <= 3601.0
        assert isinstance(caught.value.exc, APIStatusError)
        assert client.calls == 1

    @pytest.mark.usefixtures("eager_propagating")
    def test_bugs_propagate(self, client: ScriptedClient) -> None:
        """With eager propagation, a bug is raised to the caller as itself."""
        client.failures = [KeyError("report_id")]

        with pytest.raises(KeyError):
            summarise_report.delay("r-7")
        assert client.calls == 1


class Overloaded:
    """An API that answers every request 503, counting them."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        """Answer 503, asking to retry after a millisecond so the SDKs barely wait."""
        self.requests += 1
        return httpx2.Response(
            503,
            headers={"retry-after-ms": "1"},
            json={"error": {"message": "overloaded", "type": "server_error"}},
        )


class TestBudgets:
    """The retries of an SDK multiply the retries of the loop around it."""

    @pytest.fixture
    def api(self) -> Overloaded:
        """An API that is down."""
        return Overloaded()

    @pytest.fixture
    def http(self, api: Overloaded) -> Iterator[httpx2.Client]:
        """An HTTP client whose every request reaches `api`, in process."""
        with httpx2.Client(transport=httpx2.MockTransport(api)) as client:
            yield client

    def test_budgets_multiply(self, api: Overloaded, http: httpx2.Client) -> None:
        """Three attempts of openai's client, which tries three times: nine requests."""
        client = openai.OpenAI(
            api_key="sk-test", base_url="https://api.test/v1", http_client=http
        )

        with pytest.raises(openai.InternalServerError):
            Retrying(sleep=lambda seconds: None).call(client.models.list)
        assert api.requests == 9

    @pytest.mark.parametrize(
        ("make", "error"),
        [
            (
                lambda http: openai.OpenAI(
                    api_key="sk-test",
                    base_url="https://api.test/v1",
                    http_client=http,
                    max_retries=0,
                ),
                openai.APIStatusError,
            ),
            (
                lambda http: anthropic.Anthropic(
                    api_key="sk-test",
                    base_url="https://api.test",
                    http_client=http,
                    max_retries=0,
                ),
                anthropic.APIStatusError,
            ),
        ],
        ids=["openai", "anthropic"],
    )
    def test_one_layer_owns_the_budget(
        self,
        api: Overloaded,
        http: httpx2.Client,
        make: Callable[[httpx2.Client], Any],
        error: type[Exception],
    ) -> None:
        """With the SDK's retries off, three attempts make three requests."""
        client = make(http)

        with pytest.raises(error) as caught:
            Retrying(sleep=lambda seconds: None).call(client.models.list)
        assert classify(caught.value).kind == "server"
        assert api.requests == 3
