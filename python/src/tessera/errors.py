"""Exceptions raised by the Tessera client.

Every error of the server (HTTP API) or of the ``tessera`` binary (local mode) becomes one
of these, carrying the server's message, the field at fault and its hint, so that
``str(error)`` reads like the server's answer::

    tessera.errors.NotFound: no feature view named 'driver_stats_hourly' (did you mean 'driver_hourly_stats'?)
"""

from __future__ import annotations

from typing import Optional


class TesseraError(Exception):
    """Base of every Tessera client error."""

    def __init__(
        self,
        message: str,
        *,
        field: Optional[str] = None,
        hint: Optional[str] = None,
        status: Optional[int] = None,
        code: Optional[str] = None,
    ) -> None:
        self.message = message
        self.field = field
        self.hint = hint
        self.status = status
        self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InvalidRequest(TesseraError, ValueError):
    """The request is wrong: a missing column, a wrong type, a bad reference (HTTP 400)."""


class NotFound(TesseraError, KeyError):
    """An unknown feature view, feature, feature service or push source (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return TesseraError.__str__(self)


class Unauthorized(TesseraError):
    """No API key, or an unknown one (HTTP 401)."""


class Forbidden(TesseraError):
    """The API key's role is too low for the call (HTTP 403)."""


class TooLarge(TesseraError):
    """More rows, features or bytes than the server takes (HTTP 413)."""


class Unavailable(TesseraError):
    """The server's registry or online store failed; retrying is safe (HTTP 503)."""


class MaterializationFailed(TesseraError):
    """A materialization could not read its sources (HTTP 500)."""


class ConnectionFailed(TesseraError, ConnectionError):
    """The server could not be reached, or did not answer in time."""


class BinaryNotFound(TesseraError, FileNotFoundError):
    """Local mode needs the ``tessera`` binary and it was not found."""


_BY_STATUS = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    413: TooLarge,
    500: MaterializationFailed,
    503: Unavailable,
}


def from_response(status: int, body: object) -> TesseraError:
    """The exception for an HTTP error answer (Tessera's JSON error, or anything else)."""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        cls = _BY_STATUS.get(status, TesseraError)
        return cls(
            body["message"],
            field=body.get("field"),
            hint=body.get("hint"),
            status=status,
            code=body.get("error"),
        )
    text = body if isinstance(body, str) else repr(body)
    return _BY_STATUS.get(status, TesseraError)(f"HTTP {status}: {text[:300]}", status=status)


def from_cli(stderr: str, returncode: int) -> TesseraError:
    """The exception for a failed run of the ``tessera`` binary, from what it printed
    (``error: MESSAGE`` and, indented below it, the hint)."""
    lines = stderr.rstrip().splitlines()
    message = None
    hints = []
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            message = line[len("error:") :].strip()
            for follow in lines[i + 1 :]:
                if not follow.startswith((" ", "\t")) or not follow.strip():
                    break
                hints.append(follow.strip())
            break
    if message is None:
        rest = [line.strip() for line in lines if line.strip()]
        message = rest[-1] if rest else f"tessera exited with status {returncode}"
    lowered = message.lower()
    if lowered.startswith("no feature") or " has no feature " in lowered or lowered.startswith("no entity"):
        cls: type[TesseraError] = NotFound
    else:
        cls = InvalidRequest
    return cls(message, hint=" ".join(hints) or None, code="cli")
