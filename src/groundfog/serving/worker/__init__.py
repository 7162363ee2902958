"""The model-server worker of a real-time endpoint: one process per instance of a
production variant, serving SageMaker's container contract (``GET /ping``,
``POST /invocations``) for a model loaded through the inference-handler contract
(``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn`` / ``transform_fn``).

    python -m groundfog.serving.worker --model-dir DIR --framework sklearn \\
        --port 0 --ready-file /run/w1.ready --parent-pid 4242

    >>> from groundfog.serving.worker import create_app, load_handler
    >>> app = create_app(load_handler("/models/churn", "sklearn"))   # doctest: +SKIP

Modules: ``app`` (the raw ASGI app), ``handlers`` (the user module and the handler
chain), ``defaults`` (each framework's default handlers), ``codecs`` (content types),
``__main__`` (the process: ready file, parent watch, signals).
"""

from groundfog.core.lazy import lazy_exports

__all__ = [
    "InvocationContext",
    "InvocationError",
    "ModelHandler",
    "ModelLoadError",
    "create_app",
    "load_handler",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "create_app": "groundfog.serving.worker.app",
        "InvocationContext": "groundfog.serving.worker.handlers",
        "ModelHandler": "groundfog.serving.worker.handlers",
        "load_handler": "groundfog.serving.worker.handlers",
        "InvocationError": "groundfog.serving.worker.codecs",
        "ModelLoadError": "groundfog.serving.worker.defaults",
    },
)
