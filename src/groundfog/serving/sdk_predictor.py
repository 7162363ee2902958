"""The SageMaker SDK's ``Predictor``: a real-time endpoint by name, to invoke, update,
watch and delete.

>>> import groundfog as gf
>>> from groundfog.serving.serializers import CSVSerializer, JSONDeserializer
>>> predictor = gf.Predictor("churn", serializer=CSVSerializer(), deserializer=JSONDeserializer())  # doctest: +SKIP
>>> predictor.predict([[0.5, 1.2, 3.0]])                                                           # doctest: +SKIP
[1]
>>> predictor.update_endpoint(model_name="churn-v2", deployment_config={                         # doctest: +SKIP
...     "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
...         "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}, "WaitIntervalInSeconds": 60}}})

Each method maps to serving operations: ``predict`` to ``invoke_endpoint``,
``update_endpoint`` to ``create_endpoint_config`` + ``update_endpoint``, and so on; on a
remote platform (``gf.connect``) the same calls go over HTTP.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

from groundfog.core.errors import GroundfogError, ResourceNotFound, ValidationError
from groundfog.serving.serializers import BaseDeserializer, BaseSerializer, BytesDeserializer, IdentitySerializer
from groundfog.training.sdk import DEFAULT_BUCKET, default_bucket, name_from_base, resolve_platform, tags_list

# The timestamp ``name_from_base`` appends, so an updated config's name does not grow one per update.
_STAMP = re.compile(r"-\d{4}(-\d{2}){5}-\d{3}$")


def next_config_name(current: str) -> str:
    """A new endpoint config's name, from the one it replaces.

    >>> next_config_name("churn-2026-01-31-12-00-00-123")[:6]
    'churn-'
    >>> len(next_config_name("churn-2026-01-31-12-00-00-123")) == len("churn-2026-01-31-12-00-00-123")
    True
    """
    return name_from_base(_STAMP.sub("", current))


def capture_request(config: Any, platform: Any) -> dict[str, Any] | None:
    """A DataCaptureConfig request from a ``DataCaptureConfig`` or its request dict; the
    default bucket is created when the capture goes there, as the SDK's session does."""
    if config is None:
        return None
    request = config._to_request_dict() if hasattr(config, "_to_request_dict") else dict(config)
    if str(request.get("DestinationS3Uri", "")).startswith(f"s3://{DEFAULT_BUCKET}/"):
        default_bucket(platform)
    return request


def wait_until_deployed(serving: Any, endpoint_name: str, config_name: str | None = None) -> dict[str, Any]:
    """Block until the endpoint is steady; raise with its ``FailureReason`` unless it is
    ``InService`` on ``config_name`` (a rolled-back update ends InService on the old one)."""
    described = serving.wait_for_endpoint(endpoint_name=endpoint_name)
    status = described["EndpointStatus"]
    reason = described.get("FailureReason") or "no reason recorded"
    if status != "InService":
        raise GroundfogError(f"endpoint {endpoint_name!r} is {status}: {reason}", endpoint_name=endpoint_name,
                             status=status, failure_reason=reason)  # fmt: skip
    if config_name is not None and described["EndpointConfigName"] != config_name:
        raise GroundfogError(f"endpoint {endpoint_name!r} did not move to {config_name}: {reason}",
                             endpoint_name=endpoint_name, status=status, failure_reason=reason)  # fmt: skip
    return described


class Predictor:
    """Invoke an endpoint with ``predict``; the serializer makes the request body and the
    deserializer reads the response (SageMaker's ``sagemaker.predictor.Predictor``).
    ``sagemaker_session`` is accepted so that SDK code runs as written."""

    def __init__(
        self,
        endpoint_name: str,
        sagemaker_session: Any = None,
        serializer: BaseSerializer = IdentitySerializer(),  # noqa: B008 - stateless, as in the SDK
        deserializer: BaseDeserializer = BytesDeserializer(),  # noqa: B008
        platform: Any = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.sagemaker_session = sagemaker_session
        self.serializer = serializer
        self.deserializer = deserializer
        self.platform = platform
        # Read before the endpoint or its config is deleted, so delete_model works after them.
        self._model_names: list[str] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint_name!r})"

    @property
    def _serving(self) -> Any:
        return resolve_platform(self.platform).serving

    @property
    def content_type(self) -> str:
        """The request's Content-Type: the serializer's ``CONTENT_TYPE``."""
        return self.serializer.CONTENT_TYPE

    @property
    def accept(self) -> tuple[str, ...]:
        """The media types asked for: the deserializer's ``ACCEPT``."""
        return self.deserializer.ACCEPT

    def predict(
        self,
        data: Any,
        initial_args: dict[str, Any] | None = None,
        target_model: str | None = None,
        target_variant: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
    ) -> Any:
        """Serialize ``data``, invoke the endpoint, and deserialize its answer.

        ``initial_args`` may carry InvokeEndpoint's ``ContentType``, ``Accept``,
        ``CustomAttributes``, ``TargetVariant`` and ``InferenceId``, which win over the
        serializer's and deserializer's types, as in the SDK.

        >>> predictor.predict("1.0,2.0", initial_args={"ContentType": "text/csv"})  # doctest: +SKIP
        b'0\\n'
        """
        if target_model is not None:
            raise ValidationError("TargetModel is for multi-model endpoints, which groundfog does not host",
                                  field="TargetModel")  # fmt: skip
        args = dict(initial_args or {})
        body = self.serializer.serialize(data)
        if hasattr(body, "read"):
            body = body.read()
        accept = args.get("Accept", self.accept)
        invocation = self._serving.invoke_endpoint(
            endpoint_name=self.endpoint_name, body=body,
            content_type=args.get("ContentType", self.content_type),
            accept=accept if isinstance(accept, str) else ", ".join(accept),
            custom_attributes=args.get("CustomAttributes", custom_attributes),
            target_variant=args.get("TargetVariant", target_variant),
            inference_id=args.get("InferenceId", inference_id),
        )  # fmt: skip
        return self.deserializer.deserialize(io.BytesIO(invocation.body), invocation.content_type)

    def describe(self) -> dict[str, Any]:
        """The endpoint as DescribeEndpoint shows it."""
        return self._serving.describe_endpoint(endpoint_name=self.endpoint_name)

    def history(self) -> list[dict[str, Any]]:
        """The endpoint's status changes and traffic shifts, oldest first: ``[{Time, Stage, Message, Detail?}]``."""
        return self._serving.list_endpoint_history(endpoint_name=self.endpoint_name)["History"]

    def _config(self) -> dict[str, Any]:
        serving = self._serving
        config = serving.describe_endpoint_config(endpoint_config_name=self.describe()["EndpointConfigName"])
        self._model_names = [v["ModelName"] for v in config["ProductionVariants"]]
        return config

    def update_endpoint(
        self,
        initial_instance_count: int | None = None,
        instance_type: str | None = None,
        model_name: str | None = None,
        tags: Any = None,
        data_capture_config_dict: Any = None,
        wait: bool = True,
        deployment_config: dict[str, Any] | None = None,
        variant_name: str | None = None,
    ) -> None:
        """Move the endpoint to a new endpoint config: the current one with
        ``variant_name``'s model, instance type or count changed (the only variant when
        not named), and the new data capture config; ``deployment_config`` (blue/green
        canary or linear, rolling, auto-rollback alarms) says how traffic shifts.

        With ``wait``, block until the deployment ends and raise if it was rolled back.

        >>> predictor.update_endpoint(model_name="churn-v2", initial_instance_count=2)  # doctest: +SKIP
        """
        platform = resolve_platform(self.platform)
        config = self._config()
        variants = [dict(v) for v in config["ProductionVariants"]]
        asked = (("ModelName", model_name), ("InstanceType", instance_type), ("InitialInstanceCount", initial_instance_count))
        changes = {key: value for key, value in asked if value is not None}
        if changes:
            _variant(variants, variant_name, self.endpoint_name).update(changes)
        capture = capture_request(data_capture_config_dict, platform) or config.get("DataCaptureConfig")
        new_name = next_config_name(config["EndpointConfigName"])
        serving = platform.serving
        serving.create_endpoint_config(
            endpoint_config_name=new_name, production_variants=variants, data_capture_config=capture,
            shadow_production_variants=config.get("ShadowProductionVariants"), tags=tags_list(tags),
            kms_key_id=config.get("KmsKeyId"),
        )  # fmt: skip
        serving.update_endpoint(endpoint_name=self.endpoint_name, endpoint_config_name=new_name,
                                deployment_config=deployment_config)  # fmt: skip
        self._model_names = [v["ModelName"] for v in variants]
        if wait:
            wait_until_deployed(serving, self.endpoint_name, new_name)

    update = update_endpoint

    def delete_endpoint(self, delete_endpoint_config: bool = True) -> None:
        """Delete the endpoint, and its endpoint config unless told not to."""
        config_name = self.describe()["EndpointConfigName"]
        with contextlib.suppress(ResourceNotFound):  # a config deleted already has no models to remember
            self._config()
        serving = self._serving
        serving.delete_endpoint(endpoint_name=self.endpoint_name)
        if delete_endpoint_config:
            serving.delete_endpoint_config(endpoint_config_name=config_name)

    def delete_model(self) -> None:
        """Delete the models the endpoint's config runs (also after ``delete_endpoint``)."""
        names = self._model_names if self._model_names is not None else [
            v["ModelName"] for v in self._config()["ProductionVariants"]]  # fmt: skip
        registry = resolve_platform(self.platform).registry
        for name in names:
            registry.delete_model(model_name=name)


def _variant(variants: list[dict[str, Any]], name: str | None, endpoint: str) -> dict[str, Any]:
    if name is None:
        if len(variants) != 1:
            raise ValidationError(f"endpoint {endpoint} has {len(variants)} variants "
                                  f"({', '.join(v['VariantName'] for v in variants)}); name the one to change "
                                  "with variant_name", field="variant_name")  # fmt: skip
        return variants[0]
    for variant in variants:
        if variant["VariantName"] == name:
            return variant
    raise ValidationError(f"endpoint {endpoint} has no variant {name!r}; it has "
                          f"{', '.join(v['VariantName'] for v in variants)}", field="variant_name")  # fmt: skip
