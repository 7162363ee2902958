"""The console: web pages served by the API (landing page for now)."""

from groundfog.console.pages import render_home

__all__ = ["render_home"]
