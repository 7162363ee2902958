"""groundfog's one error hierarchy.

Every error a user can trigger is a ``GroundfogError``; each class carries the HTTP
status and the AWS-style error code the API answers with, and the CLI exit code, so
both interfaces map errors in exactly one place.

    GroundfogError                    500  InternalFailure
    ├── ValidationError               400  ValidationException
    │   └── PayloadTooLarge           413  ValidationException
    ├── ResourceNotFound              404  ResourceNotFoundException
    ├── ResourceInUse                 409  ResourceInUseException
    ├── Conflict                      409  ConflictException
    │   └── AlreadyExists             409  ResourceAlreadyExistsException
    ├── LimitExceeded                 429  LimitExceededException
    ├── Unauthorized                  401  UnauthorizedException
    ├── ServiceUnavailable            503  ServiceUnavailable
    └── ModelError                    424  ModelError
"""

from __future__ import annotations

from typing import Any


class GroundfogError(Exception):
    """Base of every error groundfog raises on purpose."""

    status_code: int = 500
    code: str = "InternalFailure"
    exit_code: int = 1

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body

    def __str__(self) -> str:
        return self.message


class ValidationError(GroundfogError):
    """Input that does not satisfy a documented rule; names the field at fault."""

    status_code = 400
    code = "ValidationException"
    exit_code = 2


class PayloadTooLarge(ValidationError):
    status_code = 413


class ResourceNotFound(GroundfogError):
    status_code = 404
    code = "ResourceNotFoundException"
    exit_code = 3


class ResourceInUse(GroundfogError):
    status_code = 409
    code = "ResourceInUseException"
    exit_code = 4


class Conflict(GroundfogError):
    status_code = 409
    code = "ConflictException"
    exit_code = 4


class AlreadyExists(Conflict):
    code = "ResourceAlreadyExistsException"


class LimitExceeded(GroundfogError):
    status_code = 429
    code = "LimitExceededException"
    exit_code = 5


class Unauthorized(GroundfogError):
    status_code = 401
    code = "UnauthorizedException"
    exit_code = 6


class ServiceUnavailable(GroundfogError):
    status_code = 503
    code = "ServiceUnavailable"
    exit_code = 7


class ModelError(GroundfogError):
    """The model's container answered an invocation with an error (SageMaker Runtime's
    ``ModelError``): ``details`` carry ``OriginalStatusCode`` and ``OriginalMessage``."""

    status_code = 424
    code = "ModelError"
    exit_code = 8


_BY_CODE = {
    cls.code: cls
    for cls in (
        ValidationError,
        ResourceNotFound,
        ResourceInUse,
        Conflict,
        AlreadyExists,
        LimitExceeded,
        Unauthorized,
        ServiceUnavailable,
        ModelError,
    )
}


def error_from_dict(body: dict[str, Any], status_code: int = 500) -> GroundfogError:
    """Rebuild a typed error from an API error body (used by the remote SDK)."""
    cls = _BY_CODE.get(str(body.get("__type", "")), GroundfogError)
    if cls is ValidationError and status_code == 413:
        cls = PayloadTooLarge
    err = cls(str(body.get("message", "unknown error")), field=body.get("field"), **(body.get("details") or {}))
    return err
