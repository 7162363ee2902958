"""Storage: S3's buckets and objects, on a local directory or any fsspec store (s3://).

>>> from groundfog.storage import StorageService, ObjectInfo
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.lazy import lazy_exports

_EXPORTS = {
    "BlobBackend": "groundfog.storage.backends",
    "Bucket": "groundfog.storage.models",
    "DeleteError": "groundfog.storage.models",
    "DeleteObjectsResult": "groundfog.storage.models",
    "FsspecBackend": "groundfog.storage.backends",
    "GetObjectResult": "groundfog.storage.models",
    "ListObjectsResult": "groundfog.storage.models",
    "LocalBackend": "groundfog.storage.backends",
    "ObjectInfo": "groundfog.storage.models",
    "ObjectSummary": "groundfog.storage.models",
    "StorageService": "groundfog.storage.service",
    "backend_for": "groundfog.storage.backends",
    "parse_range": "groundfog.storage.validation",
    "validate_key": "groundfog.storage.validation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from groundfog.storage.backends import BlobBackend, FsspecBackend, LocalBackend, backend_for
    from groundfog.storage.models import Bucket, DeleteError, DeleteObjectsResult, GetObjectResult, ListObjectsResult, ObjectInfo, ObjectSummary
    from groundfog.storage.service import StorageService
    from groundfog.storage.validation import parse_range, validate_key
