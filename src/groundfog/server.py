"""``groundfog up``: the platform, its background loops, and the HTTP API in one process."""

from __future__ import annotations

import logging

from groundfog.api.auth import check_bind
from groundfog.core.config import DEFAULT_PORT, Config


def serve(config: Config | None = None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, log_level: str = "info") -> None:
    """Serve until interrupted; the platform's loops stop and pending deliveries flush on exit."""
    import uvicorn

    from groundfog.api import create_app
    from groundfog.platform import Platform

    config = config or Config.from_env()
    check_bind(host, config.api_token)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    platform = Platform(config).start()
    try:
        app = create_app(platform)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
    finally:
        platform.close()
