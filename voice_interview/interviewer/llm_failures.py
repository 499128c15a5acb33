"""LLM failures in plain words: redaction of keys, and one readable line per exception.

``redact`` blanks out API keys (values of secret-looking environment variables,
key-shaped strings, credentials inside URLs); ``classify_failure`` turns whatever
litellm raised into (one line, lasting), where lasting failures (nothing
listening, key refused, unknown model) will not clear up between two turns.
"""

from __future__ import annotations

import os
import re
import socket

_KEYLIKE = re.compile(
    r"\b(?:sk|pk|rk|gsk|xai|hf|ghp|gho|github_pat|glpat|AIza|key)[-_][-_A-Za-z0-9]{8,}"
    r"|\bBearer\s+[^\s\"',}]+"
    r"|\b[A-Za-z0-9_\-]{32,}\b",
    re.IGNORECASE,
)
SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASS|CREDENTIALS?)$", re.IGNORECASE)


_URL_SECRET = re.compile(r"(?<=://)[^/@\s]+@|(?<=[?&])((?:api[-_]?)?key|token|secret)=[^&\s]+",
                         re.IGNORECASE)


def redact(text: str) -> str:
    """Blank out API keys: values of secret-looking variables, key-shaped strings,
    credentials inside URLs."""
    for name, value in os.environ.items():
        if SECRET_ENV.search(name) and len(value) >= 6:
            text = text.replace(value, "[redacted]")
    text = _URL_SECRET.sub(lambda m: f"{m.group(1)}=[redacted]" if m.group(1) else "[redacted]@",
                           text)
    return _KEYLIKE.sub("[redacted]", text)


def one_line(text: object, limit: int = 160) -> str:
    line = " ".join(redact(str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"



def _any_of(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


_BAD_JSON = _any_of(r"JSONDecodeError", r"Expecting (?:value|property name|',' delimiter|"
                    r"':' delimiter)", r"Unterminated string", r"Extra data: line",
                    r"Invalid control character", r"malformed")
_NO_CONNECTION = _any_of(r"connection refused", r"failed to establish",
                         r"name or service not known", r"nodename nor servname",
                         r"no route to host", r"network is unreachable",
                         r"all connection attempts")
_CONNECTION_LOST = _any_of(r"connection (?:error|reset|aborted)", r"peer closed",
                           r"incomplete chunked", r"server disconnected")


def connect_failed(exc: BaseException) -> bool:
    """Whether the cause chain holds a failed connect (refused, unknown host...).

    litellm's openai/ path words a refused connect as "Connection error.", as it
    does a stream cut off mid-reply; only the chain (httpx ConnectError, then
    ConnectionRefusedError or gaierror) tells them apart, and the tests of an
    unreachable LLM (nothing listening: lasting) check it is still there."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError | socket.gaierror) or \
                type(cause).__name__ == "ConnectError":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def is_timeout(exc: BaseException) -> bool:
    return "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()


def describe_failure(exc: BaseException, model: str, api_base: str | None,
                     timeout_s: float) -> str:
    """One readable line for an exception raised by litellm, keys redacted."""
    return classify_failure(exc, model, api_base, timeout_s)[0]


def classify_failure(exc: BaseException, model: str, api_base: str | None,
                     timeout_s: float) -> tuple[str, bool]:
    """(one readable line, lasting): lasting failures (nothing listening, key
    refused, unknown model) will not clear up between two turns."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)
    where = f" at {api_base}" if api_base else ""
    if is_timeout(exc):
        return f"LLM timed out after {timeout_s:.1f} s", False
    if name == "AuthenticationError" or status == 401:
        return f"the LLM{where} refused the API key (authentication failed)", True
    if name == "NotFoundError" or status == 404:
        return f"the LLM{where} does not know the model '{model}'", True
    if name == "RateLimitError" or status == 429:
        return f"the LLM{where} is rate limiting requests", False
    if _BAD_JSON.search(text):
        return f"the LLM{where} sent a malformed stream", False
    # Only a failed connect is lasting: litellm also reports a stream cut off
    # mid-reply, and any error it cannot map, as a connection error (HTTP 500).
    if connect_failed(exc) or _NO_CONNECTION.search(text):
        return f"cannot reach the LLM{where}", True
    if _CONNECTION_LOST.search(text):
        return f"the LLM{where} dropped the connection", False
    if isinstance(status, int) and status >= 500:
        return f"the LLM server{where} failed (HTTP {status})", False
    first = next((line for line in text.splitlines() if line.strip()), name)
    return f"LLM call failed ({name}): {one_line(first, 120)}", False
