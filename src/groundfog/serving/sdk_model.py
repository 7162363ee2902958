"""The SageMaker SDK's ``Model`` and its framework shortcuts, on groundfog's registry and
serving services: ``create()`` a model, ``deploy()`` it to a real-time endpoint.

The same inference code runs unchanged: an ``entry_point`` (with its ``source_dir``) is
packed into ``sourcedir.tar.gz``, uploaded content-addressed to the default bucket, and
named by ``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY`` as the SDK does, so the
worker finds ``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn`` in it.

>>> import groundfog as gf
>>> model = gf.SKLearnModel(model_data="s3://models/churn/model.tar.gz",   # doctest: +SKIP
...                         entry_point="inference.py", source_dir="code/")
>>> predictor = model.deploy(instance_type="ml.m5.large",                  # doctest: +SKIP
...                          data_capture_config=gf.DataCaptureConfig(sampling_percentage=100))
>>> predictor.endpoint_name                                                # doctest: +SKIP
'sagemaker-scikit-learn-2026-11-25-12-00-00-123'
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError
from groundfog.serving.sdk_predictor import Predictor, capture_request, next_config_name, wait_until_deployed
from groundfog.serving.serializers import (
    BaseDeserializer,
    BaseSerializer,
    CSVDeserializer,
    CSVSerializer,
    NumpyDeserializer,
    NumpySerializer,
)
from groundfog.training.sdk import (
    DEFAULT_BUCKET,
    base_name_from_image,
    name_from_base,
    resolve_platform,
    source_archive,
    tags_list,
)

log = logging.getLogger("groundfog.sdk")

PROGRAM, SUBMIT_DIRECTORY = "SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY"
LOG_LEVEL = "SAGEMAKER_CONTAINER_LOG_LEVEL"
# The SDK names a model after its image's repository; these are the framework images'.
_IMAGE_BASES = {"sklearn": "sagemaker-scikit-learn", "xgboost": "sagemaker-xgboost", "pytorch": "pytorch-inference"}


def model_code_environment(platform: Any, entry_point: str, source_dir: str | None = None,
                           code_location: str | None = None) -> dict[str, str]:  # fmt: skip
    """The container environment that points a model at its inference code: the entry
    point and ``sourcedir.tar.gz`` (a ``source_dir`` already in S3 is used as it is).

    >>> model_code_environment(platform, "inference.py", "code/")  # doctest: +SKIP
    {'SAGEMAKER_PROGRAM': 'inference.py', 'SAGEMAKER_SUBMIT_DIRECTORY':
     's3://sagemaker-local-000000000000/pipelines/code/3f2a.../sourcedir.tar.gz', 'SAGEMAKER_CONTAINER_LOG_LEVEL': '20'}
    """
    if source_dir is not None and source_dir.startswith("s3://"):
        program, submit = entry_point, source_dir
    else:
        # Content-addressed like a pipeline's code: the same code is one object, however often deployed.
        from groundfog.pipelines.sdk.context import BuildContext

        archive, program = source_archive(entry_point, source_dir)
        submit = BuildContext(resolve_platform(platform)).code_uploader(code_location)(archive)
    return {PROGRAM: program, SUBMIT_DIRECTORY: submit, LOG_LEVEL: "20"}


class DataCaptureConfig:
    """What an endpoint captures of its requests and responses, and where (the SDK's
    ``sagemaker.model_monitor.DataCaptureConfig``). ``capture_options`` takes the SDK's
    ``"REQUEST"`` / ``"RESPONSE"`` (or the API's ``Input`` / ``Output``).

    >>> DataCaptureConfig(sampling_percentage=50, capture_options=["REQUEST"])._to_request_dict()["CaptureOptions"]
    [{'CaptureMode': 'Input'}]
    >>> DataCaptureConfig().destination_s3_uri
    's3://sagemaker-local-000000000000/model-monitor/data-capture'
    """

    API_MAPPING = {"REQUEST": "Input", "RESPONSE": "Output"}

    def __init__(
        self,
        enable_capture: bool = True,
        sampling_percentage: int = 20,
        destination_s3_uri: str | None = None,
        kms_key_id: str | None = None,
        capture_options: list[str] | None = None,
        csv_content_types: list[str] | None = None,
        json_content_types: list[str] | None = None,
        sagemaker_session: Any = None,
    ) -> None:
        self.enable_capture = enable_capture
        self.sampling_percentage = sampling_percentage
        self.destination_s3_uri = destination_s3_uri or f"s3://{DEFAULT_BUCKET}/model-monitor/data-capture"
        self.kms_key_id = kms_key_id
        self.capture_options = capture_options or ["REQUEST", "RESPONSE"]
        self.csv_content_types = csv_content_types or ["text/csv"]
        self.json_content_types = json_content_types or ["application/json"]
        self.sagemaker_session = sagemaker_session

    def _to_request_dict(self) -> dict[str, Any]:
        """The ``DataCaptureConfig`` of CreateEndpointConfig."""
        request: dict[str, Any] = {
            "EnableCapture": self.enable_capture,
            "InitialSamplingPercentage": self.sampling_percentage,
            "DestinationS3Uri": self.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": self.API_MAPPING.get(o.upper(), o)} for o in self.capture_options],
            "CaptureContentTypeHeader": {"CsvContentTypes": list(self.csv_content_types),
                                         "JsonContentTypes": list(self.json_content_types)},
        }  # fmt: skip
        if self.kms_key_id is not None:
            request["KmsKeyId"] = self.kms_key_id
        return request


class Model:
    """A model to create and deploy (the SDK's ``sagemaker.model.Model``).

    ``image_uri`` is a framework (``sklearn``, ``xgboost``, ``pytorch``) or a SageMaker
    image URI of one; ``entry_point`` / ``source_dir`` hold inference code;
    ``model_package_arn`` deploys a registered version instead of ``model_data``.
    ``role`` and ``sagemaker_session`` are accepted so that SDK code runs as written.
    """

    framework: str | None = None
    # The serializer and deserializer a deployed predictor uses when deploy() names none.
    default_serializer: type[BaseSerializer] | None = None
    default_deserializer: type[BaseDeserializer] | None = None

    def __init__(
        self,
        model_data: str | None = None,
        image_uri: str | None = None,
        role: str | None = None,
        entry_point: str | None = None,
        source_dir: str | None = None,
        name: str | None = None,
        env: dict[str, str] | None = None,
        predictor_cls: Any = None,
        platform: Any = None,
        sagemaker_session: Any = None,
        code_location: str | None = None,
        model_package_arn: str | None = None,
    ) -> None:
        self.model_data = model_data
        self.image_uri = image_uri
        self.role = role
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.name = name
        self.env = dict(env or {})
        self.predictor_cls = predictor_cls or Predictor
        self.platform = platform
        self.sagemaker_session = sagemaker_session
        self.code_location = code_location
        self.model_package_arn = model_package_arn
        self.endpoint_name: str | None = None
        self._created = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model_data={self.model_data!r})"

    def _platform(self) -> Any:
        return resolve_platform(self.platform)

    @property
    def image(self) -> str | None:
        return self.image_uri or self.framework

    def _base_name(self) -> str:
        if self.model_package_arn:
            return self.model_package_arn.rstrip("/").split("/")[-2] if "/" in self.model_package_arn else "model"
        return _IMAGE_BASES.get(str(self.image).lower()) or base_name_from_image(str(self.image))

    def prepare_container_def(self) -> dict[str, Any]:
        """CreateModel's ``PrimaryContainer``; uploads the inference code, if any."""
        environment = dict(self.env)
        if self.entry_point is not None:
            environment.update(model_code_environment(self._platform(), self.entry_point, self.source_dir,
                                                      self.code_location))  # fmt: skip
        if self.model_package_arn is not None:
            container: dict[str, Any] = {"ModelPackageName": self.model_package_arn}
        elif self.image is None:
            raise ValidationError("Model needs image_uri: a framework (sklearn, xgboost, pytorch) or its image URI; "
                                  "or use SKLearnModel, XGBoostModel or PyTorchModel", field="image_uri")  # fmt: skip
        else:
            container = {"Image": self.image}
            if self.model_data is not None:
                container["ModelDataUrl"] = self.model_data
        if environment:
            container["Environment"] = environment
        return container

    def create(self, instance_type: str | None = None, tags: Any = None) -> None:
        """Create the model (CreateModel), named ``name`` or ``<image base>-<timestamp>``.
        ``instance_type`` is accepted as in the SDK; a model runs on any instance type.

        >>> model.create(); model.name  # doctest: +SKIP
        'sagemaker-scikit-learn-2026-11-25-12-00-00-123'
        """
        container = self.prepare_container_def()
        self.name = self.name or name_from_base(self._base_name())
        try:
            self._platform().registry.create_model(
                model_name=self.name, primary_container=container, tags=tags_list(tags),
                execution_role_arn=self.role if isinstance(self.role, str) else None,
            )  # fmt: skip
        except AlreadyExists:
            # As the SDK's session: a model of that name is reused, not replaced.
            log.warning("Using already existing model: %s", self.name)
        self._created = True

    def deploy(
        self,
        initial_instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        serializer: BaseSerializer | None = None,
        deserializer: BaseDeserializer | None = None,
        endpoint_name: str | None = None,
        tags: Any = None,
        kms_key: str | None = None,
        wait: bool = True,
        data_capture_config: DataCaptureConfig | None = None,
        variant_name: str = "AllTraffic",
        update_endpoint: bool = False,
    ) -> Any:
        """Create the model, an endpoint config of the same name as the endpoint, and the
        endpoint; with ``wait``, block until it is InService (raising with its
        FailureReason if it failed). ``update_endpoint=True`` moves an existing endpoint
        of that name to the new config instead. Returns ``predictor_cls(endpoint_name)``.

        >>> predictor = model.deploy(initial_instance_count=2, endpoint_name="churn")  # doctest: +SKIP
        """
        if not self._created:
            self.create(instance_type=instance_type, tags=tags)
        platform = self._platform()
        serving = platform.serving
        endpoint_name = endpoint_name or self.name
        variant = {"VariantName": variant_name, "ModelName": self.name, "InstanceType": instance_type,
                   "InitialInstanceCount": initial_instance_count, "InitialVariantWeight": 1.0}  # fmt: skip
        config = {"production_variants": [variant], "data_capture_config": capture_request(data_capture_config, platform),
                  "tags": tags_list(tags), "kms_key_id": kms_key}  # fmt: skip
        if update_endpoint and _exists(serving, endpoint_name):
            config_name = next_config_name(endpoint_name)
            serving.create_endpoint_config(endpoint_config_name=config_name, **config)
            serving.update_endpoint(endpoint_name=endpoint_name, endpoint_config_name=config_name)
        else:
            config_name = endpoint_name
            serving.create_endpoint_config(endpoint_config_name=config_name, **config)
            serving.create_endpoint(endpoint_name=endpoint_name, endpoint_config_name=config_name, tags=tags_list(tags))
        self.endpoint_name = endpoint_name
        if wait:
            wait_until_deployed(serving, endpoint_name, config_name)
        return self._predictor(endpoint_name, serializer, deserializer)

    def _predictor(self, endpoint_name: str, serializer: BaseSerializer | None,
                   deserializer: BaseDeserializer | None) -> Any:  # fmt: skip
        cls = self.predictor_cls
        if isinstance(cls, type) and issubclass(cls, Predictor):
            predictor = cls(endpoint_name, self.sagemaker_session, platform=self.platform)
        else:  # a user's predictor class, called as the SDK calls it
            predictor = cls(endpoint_name, self.sagemaker_session)
        serializer = serializer or (self.default_serializer() if self.default_serializer else None)
        deserializer = deserializer or (self.default_deserializer() if self.default_deserializer else None)
        if serializer is not None:
            predictor.serializer = serializer
        if deserializer is not None:
            predictor.deserializer = deserializer
        return predictor

    def delete_model(self) -> None:
        """Delete the model (DeleteModel)."""
        if self.name is None:
            raise ValidationError("this model has not been created; call create() or deploy() first", field="name")
        self._platform().registry.delete_model(model_name=self.name)
        self._created = False


def _exists(serving: Any, endpoint_name: str) -> bool:
    with contextlib.suppress(ResourceNotFound):
        serving.describe_endpoint(endpoint_name=endpoint_name)
        return True
    return False


class _FrameworkModel(Model):
    """A ``Model`` whose image is its framework's; ``framework_version`` and ``py_version``
    are accepted as in the SDK and change nothing."""

    def __init__(self, model_data: str | None = None, role: str | None = None, entry_point: str | None = None,
                 framework_version: str | None = None, py_version: str | None = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(model_data, role=role, entry_point=entry_point, **kwargs)
        self.framework_version = framework_version
        self.py_version = py_version


class SKLearnModel(_FrameworkModel):
    """A scikit-learn model (the SDK's ``sagemaker.sklearn.SKLearnModel``); its predictor
    sends and reads numpy arrays, as ``SKLearnPredictor`` does.

    >>> SKLearnModel("s3://models/churn/model.tar.gz").image
    'sklearn'
    """

    framework = "sklearn"
    default_serializer, default_deserializer = NumpySerializer, NumpyDeserializer


class XGBoostModel(_FrameworkModel):
    """An XGBoost model (the SDK's ``sagemaker.xgboost.XGBoostModel``); its predictor
    sends and reads CSV."""

    framework = "xgboost"
    default_serializer, default_deserializer = CSVSerializer, CSVDeserializer


class PyTorchModel(_FrameworkModel):
    """A PyTorch model (the SDK's ``sagemaker.pytorch.PyTorchModel``); its predictor
    sends and reads numpy arrays."""

    framework = "pytorch"
    default_serializer, default_deserializer = NumpySerializer, NumpyDeserializer
