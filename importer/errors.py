"""The importer's exception tree.

Every error the importer raises on purpose derives from :class:`ImporterError`;
foreign exceptions (httpx, pydantic, yaml, calamine) are translated
where they enter, with ``raise ... from exc``. A traceback that reaches the
user is a bug.

::

    ImporterError
    ├── UsageError            bad flags or settings                   (exit 2)
    ├── SourceError           the input file cannot be read            (exit 2)
    ├── MappingError          the mapping file is invalid / mismatched (exit 2)
    ├── ApiError              the API answered with an error status
    │   ├── BadRequestError       400, 413, 422: the payload is wrong (not retried)
    │   ├── AuthenticationError   401, 403: bad or missing key (run aborts)
    │   ├── NotFoundError         404: e.g. unknown pipeline_id (not retried)
    │   ├── RateLimitedError      429: slow down; carries ``retry_after_s``
    │   └── ServerError           5xx: Octolane's side (retried)
    ├── TransportError        timeout, connection refused/reset (retried)
    └── AbortedError          the run was stopped (bad key, sick server, Ctrl-C) (exit 3)

Messages say what went wrong, where (file, row, column, YAML key path) and
what to do about it. No exception ever carries the API key.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AbortedError",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ImporterError",
    "MappingError",
    "NotFoundError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "SourceError",
    "TransportError",
    "UsageError",
    "refused_for_its_data",
]


class ImporterError(Exception):
    """Root of every error the importer raises on purpose."""

    exit_code: int = 2


class UsageError(ImporterError):
    """A flag, setting or argument is wrong."""


class SourceError(ImporterError):
    """The input file cannot be read (missing, empty, binary, unknown sheet, ...)."""


class MappingError(ImporterError):
    """The mapping file is invalid or does not fit the input's columns."""


class ApiError(ImporterError):
    """Octolane answered with an error status.

    Attributes:
        status_code: the HTTP status.
        message: the API's ``message`` (or a short description when the body had none).
        field_errors: the API's ``errors`` object, field name -> message.
    """

    exit_code = 1

    def __init__(
        self,
        status_code: int,
        message: str,
        field_errors: Mapping[str, str] | None = None,
        *,
        endpoint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.endpoint = endpoint
        #: The answer is not in Octolane's error format (an HTML page, a proxy's text).
        self.foreign = False
        super().__init__(self.describe())

    def describe(self) -> str:
        where = f"{self.endpoint}: " if self.endpoint else ""
        text = f"{where}HTTP {self.status_code}: {self.message}"
        if self.field_errors:
            fields = "; ".join(f"{k}: {v}" for k, v in self.field_errors.items())
            text += f" ({fields})"
        return text


class BadRequestError(ApiError):
    """400/413/422: the request itself is wrong; retrying will not help."""


class AuthenticationError(ApiError):
    """401/403: the API key is missing, unknown or not allowed."""


class NotFoundError(ApiError):
    """404: a referenced resource (pipeline, stage) does not exist."""


class RateLimitedError(ApiError):
    """429: too many requests. ``retry_after_s`` is the server's Retry-After, if any."""

    def __init__(
        self,
        status_code: int,
        message: str,
        field_errors: Mapping[str, str] | None = None,
        *,
        endpoint: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(status_code, message, field_errors, endpoint=endpoint)


class ServerError(ApiError):
    """5xx: a failure on Octolane's side; worth retrying."""


class RequestTimeoutError(ServerError):
    """408: the server gave up waiting for the request, and did not act on it; worth
    retrying, and a repeat cannot make a second record."""


class TransportError(ImporterError):
    """The request did not get an HTTP answer: timeout, refused or reset connection.

    ``delivered`` says whether the request may have reached the server: ``False`` when
    no connection was made (refused, DNS, TLS, connect or pool timeout: nothing was
    sent), ``True`` when the answer was lost after sending began (read timeout, reset
    or closed connection): the server may have acted on it.
    """

    exit_code = 1

    def __init__(
        self, message: str, *, endpoint: str | None = None, delivered: bool = True
    ) -> None:
        self.endpoint = endpoint
        self.delivered = delivered
        super().__init__(f"{endpoint}: {message}" if endpoint else message)


def refused_for_its_data(http_status: int | None, field_errors: object = ()) -> bool:
    """Whether an answer refused a request for what it holds (a 400 or 422, or any answer
    naming a field): the same request would be refused again, so the row needs fixing.

    Anything else that failed (a 5xx after every try, 401/403, a 404 or redirect on the
    route, no connection) says nothing about the row: running again may get it in.
    """
    if field_errors:
        return True
    if http_status is None or not 400 <= http_status < 500:
        return False
    return http_status not in (401, 403, 404, 405, 408, 410, 429)


class AbortedError(ImporterError):
    """The run was stopped before it finished: bad key, a sick server, or Ctrl-C."""

    exit_code = 3
