"""
outcome: typed Ok/Err results, mergeable error collections, and failure owners.

>>> from outcome import Err, Ok, Result
>>> def parse_quantity(text: str) -> Result[int, str]:
...     return Ok(int(text)) if text.isdecimal() else Err(f"{text!r} is not a number")
>>> parse_quantity("3").map(lambda n: n * 2)
Ok(6)
"""

from inspect import isfunction as _isfunction

from outcome._bucket import Bucket
from outcome._classify import (
    DEFAULT_CLASSIFIER,
    Classifier,
    Decision,
    SelfClassifying,
    classify,
)
from outcome._errors import (
    DEFAULT_MESSAGES,
    ErrorDetail,
    ErrorEntry,
    ErrorListEntry,
    Errors,
    GraphQLUserError,
    JsonApiDocument,
    JsonApiError,
    Path,
    PathInput,
    ProblemDetails,
    ProblemDetailsError,
    accumulate,
    format_path,
    format_pointer,
    parse_path,
    parse_pointer,
)
from outcome._http import PROBLEM_JSON, HttpAnswer, Problems, http_answer
from outcome._journal import (
    DurableSaga,
    Journal,
    JournalEntry,
    JournalError,
    LeaseLost,
    PostgresJournal,
    Recovery,
    SagaRecord,
    SqliteJournal,
    recover,
)
from outcome._result import (
    Err,
    Ok,
    OkErr,
    Result,
    UnwrapError,
    and_then_async,
    as_async_result,
    as_result,
    collect,
    do,
    do_async,
    is_err,
    is_ok,
    map_async,
    partition,
)
from outcome._retry import RetryBudget, RetryDetails, Retrying, RetryPolicy, retry
from outcome._saga import Saga, SagaFailure, Step

__all__ = [
    "Bucket",
    "Classifier",
    "DEFAULT_CLASSIFIER",
    "DEFAULT_MESSAGES",
    "Decision",
    "DurableSaga",
    "Err",
    "ErrorDetail",
    "ErrorEntry",
    "ErrorListEntry",
    "Errors",
    "GraphQLUserError",
    "HttpAnswer",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JsonApiDocument",
    "JsonApiError",
    "LeaseLost",
    "Ok",
    "OkErr",
    "PROBLEM_JSON",
    "Path",
    "PathInput",
    "PostgresJournal",
    "ProblemDetails",
    "ProblemDetailsError",
    "Problems",
    "Recovery",
    "Result",
    "RetryBudget",
    "RetryDetails",
    "RetryPolicy",
    "Retrying",
    "Saga",
    "SagaFailure",
    "SagaRecord",
    "SelfClassifying",
    "SqliteJournal",
    "Step",
    "UnwrapError",
    "accumulate",
    "and_then_async",
    "as_async_result",
    "as_result",
    "classify",
    "collect",
    "do",
    "do_async",
    "format_path",
    "format_pointer",
    "http_answer",
    "is_err",
    "is_ok",
    "map_async",
    "parse_path",
    "parse_pointer",
    "partition",
    "recover",
    "retry",
]


# The one place the version is written; hatchling reads it into the metadata.
# (A module-level __getattr__ to read it lazily from the metadata would stop
# CPython from specialising `outcome.Ok` lookups, making them ~3x slower.)
__version__ = "0.1.0.dev0"


def _publish(names: list[str]) -> None:
    # Reprs, tracebacks, pickles and docs show `outcome.Ok`, not the private module.
    # Methods move with their class so doctest still finds their examples.
    namespace = globals()
    for name in names:
        obj = namespace[name]
        if not (isinstance(obj, type) or _isfunction(obj)):
            continue  # the Result alias and the OkErr tuple have no module of ours
        obj.__module__ = __name__
        for member in getattr(obj, "__dict__", {}).values():
            # A classmethod or staticmethod holds its function in __func__.
            function = getattr(member, "__func__", member)
            if _isfunction(function):
                function.__module__ = __name__


_publish(__all__)
