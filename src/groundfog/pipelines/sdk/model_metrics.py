"""Metrics registered with a model version (``sagemaker.model_metrics``): reports an
evaluation step wrote, by their S3 location.

>>> report = MetricsSource(content_type="application/json", s3_uri="s3://models/eval/evaluation.json")
>>> ModelMetrics(model_statistics=report).to_request()
{'ModelQuality': {'Statistics': {'ContentType': 'application/json', 'S3Uri': 's3://models/eval/evaluation.json'}}}
"""

from __future__ import annotations

from typing import Any

from groundfog.pipelines.sdk.variables import serialize


class MetricsSource:
    """A metrics report: its ``content_type`` and ``s3_uri`` (text or a pipeline variable,
    e.g. a ``Join`` on an evaluation step's output)."""

    def __init__(self, content_type: Any, s3_uri: Any, content_digest: Any = None) -> None:
        self.content_type = content_type
        self.s3_uri = s3_uri
        self.content_digest = content_digest

    def to_request(self) -> dict[str, Any]:
        request = {"ContentType": self.content_type, "S3Uri": self.s3_uri}
        if self.content_digest is not None:
            request["ContentDigest"] = self.content_digest
        return serialize(request)

    _to_request_dict = to_request


class FileSource:
    """A file (a Clarify analysis config, say) by ``s3_uri``."""

    def __init__(self, s3_uri: Any, content_digest: Any = None, content_type: Any = None) -> None:
        self.s3_uri = s3_uri
        self.content_digest = content_digest
        self.content_type = content_type

    def to_request(self) -> dict[str, Any]:
        request = {"S3Uri": self.s3_uri}
        for key, value in (("ContentDigest", self.content_digest), ("ContentType", self.content_type)):
            if value is not None:
                request[key] = value
        return serialize(request)

    _to_request_dict = to_request


class ModelMetrics:
    """The reports on a model: quality (statistics, constraints), data quality, bias
    (before and after training) and explainability; each a ``MetricsSource``."""

    def __init__(
        self,
        model_statistics: MetricsSource | None = None,
        model_constraints: MetricsSource | None = None,
        model_data_statistics: MetricsSource | None = None,
        model_data_constraints: MetricsSource | None = None,
        bias: MetricsSource | None = None,
        explainability: MetricsSource | None = None,
        bias_pre_training: MetricsSource | None = None,
        bias_post_training: MetricsSource | None = None,
    ) -> None:
        self.model_statistics = model_statistics
        self.model_constraints = model_constraints
        self.model_data_statistics = model_data_statistics
        self.model_data_constraints = model_data_constraints
        self.bias = bias
        self.explainability = explainability
        self.bias_pre_training = bias_pre_training
        self.bias_post_training = bias_post_training

    def to_request(self) -> dict[str, Any]:
        groups = {
            "ModelQuality": {"Statistics": self.model_statistics, "Constraints": self.model_constraints},
            "ModelDataQuality": {"Statistics": self.model_data_statistics, "Constraints": self.model_data_constraints},
            "Bias": {"Report": self.bias, "PreTrainingReport": self.bias_pre_training,
                     "PostTrainingReport": self.bias_post_training},
            "Explainability": {"Report": self.explainability},
        }  # fmt: skip
        request = {}
        for group, sources in groups.items():
            present = {key: source.to_request() for key, source in sources.items() if source is not None}
            if present:
                request[group] = present
        return request

    _to_request_dict = to_request
