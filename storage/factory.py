"""Build an ObjectStore from one configuration string.

One string lets the embedded default (a directory) and production (S3/MinIO)
share the same setting and code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .base import ObjectStore
from .local import LocalStore
from .s3 import S3Store

EXPECTED_FORMS = (
    "expected a directory path, file:///absolute/path, or "
    "s3://ACCESS_KEY:SECRET_KEY@host[:port]/bucket[?secure=false&region=REGION&part_size=BYTES]"
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _redact(url: str) -> str:
    """Drop credentials so error messages can be logged safely."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _bad(url: str, why: str) -> ValueError:
    return ValueError(f"invalid object store URL {_redact(url)!r}: {why}; {EXPECTED_FORMS}")


def parse_s3_url(url: str) -> dict[str, Any]:
    """Return S3Store keyword arguments for an ``s3://`` URL (credentials URL-decoded)."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise _bad(url, "scheme must be s3")
    if "@" not in parts.netloc:
        raise _bad(url, "missing ACCESS_KEY:SECRET_KEY@")
    userinfo, host = parts.netloc.rsplit("@", 1)
    access, colon, secret = userinfo.partition(":")
    if not access or not colon or not secret:
        raise _bad(url, "missing access key or secret key")
    if not host or not parts.hostname:
        raise _bad(url, "missing host")
    try:
        parts.port  # noqa: B018 - validates the port number
    except ValueError:
        raise _bad(url, "port must be a number from 0 to 65535") from None
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket:
        raise _bad(url, "path must be exactly one bucket name")
    if parts.fragment:
        raise _bad(url, "fragments are not allowed")

    kwargs: dict[str, Any] = {
        "endpoint": host,
        "access_key": unquote(access),
        "secret_key": unquote(secret),
        "bucket": unquote(bucket),
    }
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    for name, values in query.items():
        if len(values) != 1:
            raise _bad(url, f"query parameter {name!r} given more than once")
        value = values[0]
        if name == "secure":
            if value.lower() in _TRUE:
                kwargs["secure"] = True
            elif value.lower() in _FALSE:
                kwargs["secure"] = False
            else:
                raise _bad(url, "secure must be true or false")
        elif name == "region":
            if not value:
                raise _bad(url, "region must not be empty")
            kwargs["region"] = value
        elif name == "part_size":
            if not value.isdigit():
                raise _bad(url, "part_size must be a whole number of bytes")
            kwargs["part_size"] = int(value)
        else:
            raise _bad(url, f"unknown query parameter {name!r}")
    return kwargs


def parse_file_url(url: str) -> Path:
    """Return the directory named by a ``file:`` URL (absolute, local host only)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise _bad(url, "scheme must be file")
    if parts.netloc not in ("", "localhost"):
        raise _bad(url, "file URLs must name a local path (file:///path)")
    if parts.query or parts.fragment:
        raise _bad(url, "file URLs take no query or fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise _bad(url, "file URLs need an absolute path (file:///path)")
    return Path(path)


def open_store(url: str) -> ObjectStore:
    """Open the store a configuration string names; raise ValueError if malformed."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"empty object store URL; {EXPECTED_FORMS}")
    url = url.strip()
    if "://" not in url and not url.lower().startswith("file:"):
        return LocalStore(Path(url))
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        return S3Store(**parse_s3_url(url))
    if scheme == "file":
        return LocalStore(parse_file_url(url))
    raise _bad(url, "unsupported scheme")
