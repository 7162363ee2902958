"""The ASGI app: mounts every service's operations, special routes and the console."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

import groundfog
from groundfog.api.auth import BearerTokenMiddleware
from groundfog.api.errors import install_error_handlers
from groundfog.api.operations import operations_router
from groundfog.console import endpoints_pages, jobs_pages, pipelines_pages, registry_pages
from groundfog.core.errors import ResourceNotFound

if TYPE_CHECKING:
    from groundfog.platform import Platform


def create_app(platform: "Platform") -> FastAPI:
    app = FastAPI(
        title="groundfog",
        version=groundfog.__version__,
        description="The AWS machine-learning engineering stack, running on your own machine.",
    )
    app.state.platform = platform
    install_error_handlers(app)
    if platform.config.api_token:
        app.add_middleware(BearerTokenMiddleware, token=platform.config.api_token)

    @app.get("/health", tags=["platform"])
    def health() -> dict[str, Any]:
        with platform.state.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {
            "status": "ok",
            "version": groundfog.__version__,
            "state": platform.state.dialect,
            "objects": platform.config.objects_url,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def console_home() -> str:
        from groundfog.console import render_home

        return render_home(platform)

    def console_page(render: Callable[..., str], *args: str) -> HTMLResponse:
        # An unknown job is a page a person reads, not a JSON error body.
        try:
            return HTMLResponse(render(platform, *args))
        except ResourceNotFound as exc:
            return HTMLResponse(jobs_pages.render_not_found(str(exc)), status_code=404)

    @app.get("/console/training", response_class=HTMLResponse, include_in_schema=False)
    def console_training_jobs() -> HTMLResponse:
        return console_page(jobs_pages.render_training_jobs)

    @app.get("/console/training/{name}", response_class=HTMLResponse, include_in_schema=False)
    def console_training_job(name: str) -> HTMLResponse:
        return console_page(jobs_pages.render_training_job, name)

    @app.get("/console/tuning/{name}", response_class=HTMLResponse, include_in_schema=False)
    def console_tuning_job(name: str) -> HTMLResponse:
        return console_page(jobs_pages.render_tuning_job, name)

    @app.get("/console/pipelines", response_class=HTMLResponse, include_in_schema=False)
    def console_pipelines() -> HTMLResponse:
        return console_page(pipelines_pages.render_pipelines)

    @app.get("/console/registry", response_class=HTMLResponse, include_in_schema=False)
    def console_registry() -> HTMLResponse:
        return console_page(registry_pages.render_registry)

    @app.get("/console/pipelines/executions/{execution_id}", response_class=HTMLResponse, include_in_schema=False)
    def console_pipeline_execution(execution_id: str) -> HTMLResponse:
        return console_page(pipelines_pages.render_pipeline_execution, execution_id)

    @app.get("/console/endpoints", response_class=HTMLResponse, include_in_schema=False)
    def console_endpoints() -> HTMLResponse:
        return console_page(endpoints_pages.render_endpoints)

    @app.get("/console/endpoints/{name}", response_class=HTMLResponse, include_in_schema=False)
    def console_endpoint(name: str) -> HTMLResponse:
        return console_page(endpoints_pages.render_endpoint, name)

    from starlette.routing import Route

    from groundfog.serving.runtime_api import InvocationsEndpoint
    from groundfog.storage.api import router as storage_router

    # First, so that an invocation meets no other route on its way.
    app.router.routes.insert(
        0, Route("/endpoints/{name}/invocations", InvocationsEndpoint(platform.serving), methods=["POST"])
    )

    app.include_router(storage_router, prefix="/api/storage", tags=["storage"])
    for name, service in platform.services.items():
        app.include_router(operations_router(name, service))
    return app
