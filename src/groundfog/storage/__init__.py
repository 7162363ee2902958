"""Storage: S3's buckets and objects, on a local directory or any fsspec store (s3://).

>>> from groundfog.storage import StorageService, ObjectInfo
"""

from groundfog.storage.backends import BlobBackend, FsspecBackend, LocalBackend, backend_for
from groundfog.storage.models import (
    Bucket,
    DeleteError,
    DeleteObjectsResult,
    GetObjectResult,
    ListObjectsResult,
    ObjectInfo,
    ObjectSummary,
)
from groundfog.storage.service import StorageService
from groundfog.storage.validation import parse_range, validate_key

__all__ = [
    "BlobBackend",
    "Bucket",
    "DeleteError",
    "DeleteObjectsResult",
    "FsspecBackend",
    "GetObjectResult",
    "ListObjectsResult",
    "LocalBackend",
    "ObjectInfo",
    "ObjectSummary",
    "StorageService",
    "backend_for",
    "parse_range",
    "validate_key",
]
