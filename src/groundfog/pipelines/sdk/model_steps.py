"""Steps that put a trained model to use: ``ModelStep`` (CreateModel) and
``RegisterModel`` (a new version in a model package group), as in
``sagemaker.workflow.model_step`` / ``step_collections``.

>>> import groundfog as gf
>>> from groundfog.pipelines.sdk import Properties
>>> artifacts = Properties("Steps.Train").ModelArtifacts.S3ModelArtifacts
>>> ModelStep("CreateModel", model_data=artifacts, image_uri="xgboost").arguments
{'PrimaryContainer': {'Image': 'xgboost', 'ModelDataUrl': {'Get': 'Steps.Train.ModelArtifacts.S3ModelArtifacts'}}}
>>> register = RegisterModel("Register", "churn", model_data=artifacts, image_uri="xgboost",
...                          content_types=["text/csv"], response_types=["text/csv"])
>>> register.arguments["ModelApprovalStatus"], register.properties.ModelPackageArn.expr
('PendingManualApproval', {'Get': 'Steps.Register.ModelPackageArn'})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundfog.pipelines.sdk.context import BuildContext
from groundfog.pipelines.sdk.job_arguments import StepArguments
from groundfog.pipelines.sdk.model_metrics import ModelMetrics
from groundfog.pipelines.sdk.policies import RetryPolicy
from groundfog.pipelines.sdk.steps import ConfigurableRetryStep, Step, StepTypeEnum
from groundfog.training.sdk import tags_list
from groundfog.training.sdk_estimator import Estimator

# Where the inference toolkit finds a script-mode model's handler code.
SCRIPT_ENV = ("SAGEMAKER_PROGRAM", "SAGEMAKER_SUBMIT_DIRECTORY")


def _model_data(name: str, model_data: Any, model: Any, estimator: Any = None) -> Any:
    if model_data is None and model is not None:
        model_data = getattr(model, "model_data", None)
    if model_data is None:
        hint = "e.g. train_step.properties.ModelArtifacts.S3ModelArtifacts"
        raise ValueError(f"step {name!r} needs model_data ({hint})" + (" even with estimator=" if estimator else ""))
    return model_data


class ModelStep(ConfigurableRetryStep):
    """Create a model (Type ``Model``) from ``model_data`` and the serving ``image_uri``,
    or from ``model=`` (any object with ``image_uri``, ``model_data`` and ``env``).
    ``properties.ModelName`` names the model it created."""

    step_type = StepTypeEnum.CREATE_MODEL

    def __init__(
        self,
        name: str,
        model_data: Any = None,
        image_uri: Any = "sklearn",
        environment: dict[str, Any] | None = None,
        model: Any = None,
        *,
        role: str | None = None,
        tags: Any = None,
        inputs: Any = None,
        display_name: str | None = None,
        description: str | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
    ) -> None:
        super().__init__(name, display_name, description, depends_on, retry_policies)
        if isinstance(model_data, StepArguments):
            raise TypeError(f"ModelStep {name!r} takes model_data= and image_uri= (or model=), not job step arguments")
        self.model = model
        self.model_data = _model_data(name, model_data, model)
        self.image_uri = (getattr(model, "image_uri", None) if model is not None else None) or image_uri
        self.environment = {**(getattr(model, "env", None) or {}), **(environment or {})}
        self.role = role if role is not None else getattr(model, "role", None)
        self.tags = tags
        self.inputs = inputs  # the SDK's CreateModelInput: instance types are an endpoint's business here

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        container: dict[str, Any] = {"Image": self.image_uri, "ModelDataUrl": self.model_data}
        if self.environment:
            container["Environment"] = self.environment
        arguments: dict[str, Any] = {"PrimaryContainer": container}
        if isinstance(self.role, str):
            arguments["ExecutionRoleArn"] = self.role
        if self.tags:
            arguments["Tags"] = tags_list(self.tags)
        return arguments


class CreateModelStep(ModelStep):
    """The SDK's older ``CreateModelStep(name, model, inputs)``: a ``ModelStep`` of ``model``."""

    def __init__(
        self,
        name: str,
        model: Any,
        inputs: Any = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(name, model=model, inputs=inputs, depends_on=depends_on, retry_policies=retry_policies,
                         display_name=display_name, description=description)  # fmt: skip


class RegisterModel(ConfigurableRetryStep):
    """Register ``model_data`` as a new version in ``model_package_group_name`` (Type
    ``RegisterModel``), with ``approval_status`` (``PendingManualApproval`` by default).

    The image is ``image_uri``, else ``model.image_uri``, else the ``estimator``'s image; a
    script-mode estimator's code also goes with the model (``SAGEMAKER_PROGRAM``,
    ``SAGEMAKER_SUBMIT_DIRECTORY``), as SageMaker's ``estimator.create_model`` does. Unlike
    SageMaker's step collection, this is one step, named ``name``.
    ``properties.ModelPackageArn`` is the version registered.
    """

    step_type = StepTypeEnum.REGISTER_MODEL

    def __init__(
        self,
        name: str,
        model_package_group_name: Any,
        *,
        content_types: Sequence[str] | None = None,
        response_types: Sequence[str] | None = None,
        inference_instances: Sequence[Any] | None = None,
        transform_instances: Sequence[Any] | None = None,
        model_data: Any = None,
        estimator: Estimator | None = None,
        image_uri: Any = None,
        model: Any = None,
        environment: dict[str, Any] | None = None,
        framework: str | None = None,
        approval_status: Any = "PendingManualApproval",
        model_metrics: ModelMetrics | None = None,
        customer_metadata_properties: dict[str, Any] | None = None,
        metadata_properties: dict[str, Any] | None = None,
        description: str | None = None,
        domain: Any = None,
        task: Any = None,
        sample_payload_url: Any = None,
        tags: Any = None,
        display_name: str | None = None,
        depends_on: Sequence[Step | str] | None = None,
        retry_policies: Sequence[RetryPolicy] | None = None,
        **sdk_options: Any,
    ) -> None:
        super().__init__(name, display_name, description, depends_on, retry_policies)
        if not model_package_group_name or isinstance(model_package_group_name, (list, tuple)):
            raise TypeError(f"RegisterModel {name!r}: the second argument is model_package_group_name (a name), "
                            f"got {model_package_group_name!r}; pass content_types= and the rest by keyword")  # fmt: skip
        self.model_package_group_name = model_package_group_name
        self.content_types = content_types
        self.response_types = response_types
        self.inference_instances = inference_instances
        self.transform_instances = transform_instances
        self.estimator = estimator
        self.model = model
        self.model_data = _model_data(name, model_data, model, estimator)
        self.image_uri = image_uri or getattr(model, "image_uri", None) or (estimator.training_image if estimator else None)
        if self.image_uri is None:
            raise ValueError(f"RegisterModel {name!r} needs image_uri=, model= or estimator= to know the serving image")
        self.environment = {**(getattr(model, "env", None) or {}), **(environment or {})}
        self.framework = framework or (estimator.framework.upper() if estimator is not None and estimator.framework else None)
        self.approval_status = approval_status
        self.model_metrics = model_metrics
        self.customer_metadata_properties = customer_metadata_properties
        self.metadata_properties = metadata_properties
        self.domain = domain
        self.task = task
        self.sample_payload_url = sample_payload_url
        self.tags = tags
        self.sdk_options = sdk_options  # SageMaker's repack/compile options: nothing to do here

    def _arguments(self, context: BuildContext) -> dict[str, Any]:
        container: dict[str, Any] = {"Image": self.image_uri, "ModelDataUrl": self.model_data}
        if self.framework:
            container["Framework"] = self.framework
        environment = {**self._script_environment(context), **self.environment}
        if environment:
            container["Environment"] = environment
        specification: dict[str, Any] = {"Containers": [container]}
        for key, value in (("SupportedContentTypes", self.content_types), ("SupportedResponseMIMETypes", self.response_types),
                           ("SupportedRealtimeInferenceInstanceTypes", self.inference_instances),
                           ("SupportedTransformInstanceTypes", self.transform_instances)):  # fmt: skip
            if value is not None:
                specification[key] = list(value)
        arguments: dict[str, Any] = {
            "ModelPackageGroupName": self.model_package_group_name,
            "InferenceSpecification": specification,
            "ModelApprovalStatus": self.approval_status,
        }
        optional = (
            ("ModelMetrics", self.model_metrics), ("CustomerMetadataProperties", self.customer_metadata_properties),
            ("ModelPackageDescription", self.description), ("MetadataProperties", self.metadata_properties),
            ("Domain", self.domain), ("Task", self.task), ("SamplePayloadUrl", self.sample_payload_url),
            ("Tags", tags_list(self.tags) if self.tags else None),
        )  # fmt: skip
        arguments.update((key, value) for key, value in optional if value is not None)
        return arguments

    def _script_environment(self, context: BuildContext) -> dict[str, str]:
        estimator = self.estimator
        if estimator is None or estimator.entry_point is None:
            return {}
        program, submit = estimator.code(context.code_uploader(estimator.code_location))
        return dict(zip(SCRIPT_ENV, (program, submit), strict=True))

    def _platform_hint(self) -> Any:
        return self.estimator.platform if self.estimator is not None else None

