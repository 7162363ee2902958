"""``groundfog``: the root command. ``groundfog <service> <verb>``, plus up, lab, demo."""

from __future__ import annotations

from typing import Annotated

import typer

from groundfog.cli.common import JsonOption, command, output, platform

app = typer.Typer(
    name="groundfog",
    help="The AWS machine-learning engineering stack, running on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _mount() -> None:
    from groundfog.events.cli import app as events_app
    from groundfog.events.topics_cli import app as topics_app
    from groundfog.labs.cli import lab
    from groundfog.metrics.cli import alarms_app, metrics_app
    from groundfog.pipelines.cli import pipelines_app
    from groundfog.registry.cli import models_app, registry_app
    from groundfog.serving.cli import endpoint_configs_app, endpoints_app
    from groundfog.storage.cli import app as storage_app
    from groundfog.training.cli import processing_app, training_app, tuning_app
    from groundfog.training.instances_cli import app as instances_app

    app.add_typer(storage_app, name="storage", help="Buckets and objects (S3), like `aws s3`.")
    app.add_typer(events_app, name="events", help="Event buses, rules, targets, functions (EventBridge).")
    app.add_typer(topics_app, name="topics", help="Topics and subscriptions (SNS).")
    app.add_typer(metrics_app, name="metrics", help="Metric data and statistics (CloudWatch).")
    app.add_typer(alarms_app, name="alarms", help="Alarms on metrics (CloudWatch).")
    app.add_typer(instances_app, name="instances",
                  help="The instance catalog: types per family, prices, cost (SageMaker instance types).")
    app.add_typer(training_app, name="training", help="Training jobs: script mode, built-in XGBoost, spot (SageMaker training jobs).")
    app.add_typer(processing_app, name="processing", help="Processing jobs (SageMaker Processing).")
    app.add_typer(tuning_app, name="tuning", help="Hyperparameter tuning jobs (SageMaker automatic model tuning).")
    app.add_typer(registry_app, name="registry", help="Model package groups, versions and approval (SageMaker Model Registry).")
    app.add_typer(models_app, name="models", help="Models: an image and model data, or a registered version (SageMaker CreateModel).")
    app.add_typer(pipelines_app, name="pipelines", help="Pipelines: DAGs of processing, training, condition and registration steps (SageMaker Pipelines).")
    app.add_typer(endpoint_configs_app, name="endpoint-configs",
                  help="Endpoint configs: variants, instance counts, weights, data capture (SageMaker CreateEndpointConfig).")
    app.add_typer(endpoints_app, name="endpoints",
                  help="Real-time endpoints: deploy, update with canary or linear traffic shifts, invoke (SageMaker hosting).")
    app.command("lab")(lab)


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless a token is set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8750,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Serve the platform: HTTP API, console and background loops."""
    from groundfog.server import serve

    command(lambda: serve(host=host, port=port, log_level=log_level))()


@app.command()
def version(as_json: JsonOption = False) -> None:
    """Print groundfog's version."""
    import groundfog

    output({"version": groundfog.__version__} if as_json else groundfog.__version__, as_json=as_json)


@app.command()
def info(as_json: JsonOption = False) -> None:
    """Where this platform keeps its state and objects."""

    @command
    def run() -> None:
        p = platform()
        output(
            {"home": str(p.config.home), "state_url": p.state.safe_url, "objects_url": p.config.objects_url,
             "executor": p.config.executor},
            as_json=as_json,
        )

    run()


@app.command()
def demo() -> None:
    """Run the end-to-end demo on a throwaway home directory."""
    from groundfog.labs.demo import run_demo

    command(run_demo)()


_mount()


def main() -> None:
    app()
