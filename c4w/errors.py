"""The typed errors of the Cloud4Wi client: one small family the pages can catch and explain.

Every error carries a short, user-facing ``hint`` (what to do next). Messages are built by the
client from the status, the server's own ``message`` (when the body has one) and a short cause;
they never contain the token or the client secret, and they are raised without the underlying
``requests`` exception chained to them (whose request object holds the Authorization header).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_SERVER_MESSAGE = 300  # a server message longer than this is cut, so errors stay short
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class C4WError(Exception):
    """Base of every error the client raises after it has sent a request."""

    default_hint = "Try again in a minute; if it keeps failing, check the API settings."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class AuthError(C4WError):
    """The API refused the credentials: 401 (bad key/secret), 403 (token invalid, expired or
    without permission, after one fresh login when possible) or 410 (access revoked)."""

    default_hint = (
        "Check the client key and secret (or get a new token) in the app's settings; the API "
        "service needs the Organization Manager role."
    )

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class RateLimitError(C4WError):
    """The API kept answering 429 (too many requests) after the client's bounded retries."""

    default_hint = "Cloud4Wi is limiting requests: wait a minute, then reload."

    def __init__(
        self, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        if hint is None and retry_after:
            hint = f"Cloud4Wi is limiting requests: wait {retry_after:.0f} s, then reload."
        super().__init__(message, hint=hint)
        self.status = 429
        self.retry_after = retry_after


class APIError(C4WError):
    """The API answered an error status: ``status`` and, when its body had one, the server's
    ``server_message`` (the body's schema is not published, so it may be None)."""

    default_hint = "Try again in a few minutes; if it keeps failing, contact Cloud4Wi support."

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        server_message: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.server_message = server_message


class ScrollExpiredError(APIError):
    """A scroll id was refused mid-way and resuming the query from the last event did not help."""

    default_hint = "The API kept dropping the result cursor: reload to fetch again."


class TransportError(C4WError):
    """No usable answer: connection refused or reset, a timeout, or a body that is not JSON
    (``NotAnsweringError`` and ``NotJSONError`` say which, when it is one of those)."""

    default_hint = (
        "Check the network and the API address (C4W_BASE_URL), then reload; the answer may have "
        "been cut off."
    )


class NotAnsweringError(TransportError):
    """No answer in time: each try timed out, and the client's bound on the wait for one answer
    (retries included), or on the whole fetch, ran out."""

    default_hint = (
        "Cloud4Wi may be down or very slow: try again in a few minutes, or pick fewer days. "
        "Check the network and the API address (C4W_BASE_URL) if it keeps happening."
    )


class NotJSONError(TransportError):
    """The API answered, but with something that is not JSON (an HTML page, say): often a proxy,
    a sign-in or maintenance page, or an API address that points at a website."""

    default_hint = (
        "Check the API address (C4W_BASE_URL) and any proxy between this server and Cloud4Wi; "
        "if they are right, Cloud4Wi may be under maintenance: try again later."
    )
