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


# The SageMaker-style SDK classes, by the module that defines them (imported on first use).
_SDK = {
    **dict.fromkeys(
        ("Estimator", "SKLearn", "PyTorch", "XGBoost", "TrainingInput"), "groundfog.training.sdk_estimator"
    ),
    **dict.fromkeys(
        ("Processor", "ScriptProcessor", "SKLearnProcessor", "ProcessingInput", "ProcessingOutput"),
        "groundfog.training.sdk_processing",
    ),
    **dict.fromkeys(
        ("HyperparameterTuner", "IntegerParameter", "ContinuousParameter", "CategoricalParameter"),
        "groundfog.training.sdk_tuning",
    ),
    # The pipeline entry points; steps, parameters and conditions are in groundfog.pipelines.sdk.
    **dict.fromkeys(("Pipeline", "PipelineSession"), "groundfog.pipelines.sdk"),
    **dict.fromkeys(("ModelPackage", "ModelPackageGroup"), "groundfog.registry.sdk"),
    # Hosting; the serializers and deserializers are in groundfog.serving.sdk.
    **dict.fromkeys(
        ("Model", "SKLearnModel", "XGBoostModel", "PyTorchModel", "DataCaptureConfig", "Predictor"),
        "groundfog.serving.sdk",
    ),
}
__all__ += list(_SDK)


def __getattr__(name: str) -> Any:
    # Lazy, so ``import groundfog`` (and ``groundfog --help``) stays fast.
    if name in _SDK:
        import importlib

        return getattr(importlib.import_module(_SDK[name]), name)
    if name == "Platform":
        from groundfog.platform import Platform

        return Platform
    if name == "Config":
        from groundfog.core.config import Config

        return Config
    raise AttributeError(f"module 'groundfog' has no attribute {name!r}")
