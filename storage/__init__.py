"""Object storage for the electronic set: one interface, local and S3 back ends.

``open_store(url)`` picks the back end from configuration; the rest of the
application only sees ``ObjectStore``.
"""

from .base import (
    ChecksumMismatch,
    KeyInfo,
    Leftover,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageFull,
    StorageUnavailable,
    StoredObject,
    content_key,
    parse_content_key,
    validate_key,
)
from .factory import open_store
from .local import LocalStore
from .s3 import S3Store

__all__ = [
    "ChecksumMismatch",
    "KeyInfo",
    "Leftover",
    "LocalStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "StoredObject",
    "content_key",
    "open_store",
    "parse_content_key",
    "validate_key",
]
