"""groundfog: the AWS machine-learning engineering stack, running on your own machine.

>>> import groundfog as gf
>>> p = gf.Platform()                        # embedded, state in ~/.groundfog
>>> r = gf.connect("http://127.0.0.1:8750")  # the same services, over HTTP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "Platform", "connect", "__version__"]

if TYPE_CHECKING:
    from groundfog.client import RemotePlatform
    from groundfog.core.config import Config
    from groundfog.platform import Platform


def connect(url: str = "http://127.0.0.1:8750", *, token: str | None = None) -> "RemotePlatform":
    """The services of a running ``groundfog up`` server, with the same methods."""
    from groundfog.client import RemotePlatform

    return RemotePlatform(url, token=token)


def __getattr__(name: str) -> Any:
    # Lazy, so ``import groundfog`` (and ``groundfog --help``) stays fast.
    if name == "Platform":
        from groundfog.platform import Platform

        return Platform
    if name == "Config":
        from groundfog.core.config import Config

        return Config
    raise AttributeError(f"module 'groundfog' has no attribute {name!r}")
