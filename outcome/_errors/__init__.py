"""
Errors and ErrorDetail: what went wrong, where, and who must act.

Modules, each importing only those above it: `paths`, `params` (frozen,
keyed, JSON-safe), `messages` (templates and redaction), `detail`
(`ErrorDetail`), `adapters` (pydantic, Django, marshmallow), `collection`
(`Errors` and its serialisers) and `accumulate`.
"""

from outcome._errors.accumulate import accumulate
from outcome._errors.collection import (
    ErrorEntry,
    ErrorListEntry,
    Errors,
    GraphQLUserError,
    JsonApiDocument,
    JsonApiError,
    ProblemDetails,
    ProblemDetailsError,
)
from outcome._errors.detail import ErrorDetail
from outcome._errors.messages import DEFAULT_MESSAGES
from outcome._errors.paths import (
    Path,
    PathInput,
    format_path,
    format_pointer,
    parse_path,
    parse_pointer,
)

__all__ = [
    "DEFAULT_MESSAGES",
    "ErrorDetail",
    "ErrorEntry",
    "ErrorListEntry",
    "Errors",
    "GraphQLUserError",
    "JsonApiDocument",
    "JsonApiError",
    "Path",
    "PathInput",
    "ProblemDetails",
    "ProblemDetailsError",
    "accumulate",
    "format_path",
    "format_pointer",
    "parse_path",
    "parse_pointer",
]
