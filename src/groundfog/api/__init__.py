"""The HTTP API: every service operation over JSON, plus health and the console."""

from groundfog.api.app import create_app

__all__ = ["create_app"]
