"""The evaluation report a version's ModelMetrics point at is read at registration and
shown by DescribeModelPackage under ``ModelMetricsReports``."""

from __future__ import annotations

import json

import pytest
from registry_helpers import REPORT, quality_metrics, register

from groundfog.core.errors import ValidationError
from groundfog.registry.reports import MAX_REPORT_BYTES


def test_a_json_evaluation_report_is_read_and_attached(churn):
    metrics = quality_metrics()
    register(churn, model_metrics=metrics)
    described = churn.registry.describe_model_package(model_package_name="churn/1")
    assert described["ModelMetrics"] == metrics
    assert described["ModelMetricsReports"] == {"ModelQuality.Statistics": REPORT}


def test_the_report_attached_is_the_one_at_registration(churn):
    register(churn, model_metrics=quality_metrics())
    churn.storage.put_object("models", "churn/evaluation.json", b'{"rewritten": true}')
    reports = churn.registry.describe_model_package(model_package_name="churn/1")["ModelMetricsReports"]
    assert reports["ModelQuality.Statistics"] == REPORT


def test_every_json_metrics_source_is_attached_under_its_section_and_name(churn):
    churn.storage.put_object("models", "churn/bias.json", json.dumps({"CI": -0.1}).encode())
    churn.storage.put_object("models", "churn/constraints.json", json.dumps({"version": 0.0}).encode())
    metrics = {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://models/churn/evaluation.json"},
                         "Constraints": {"ContentType": "application/json", "S3Uri": "s3://models/churn/constraints.json"}},
        "Bias": {"PostTrainingReport": {"ContentType": "application/json", "S3Uri": "s3://models/churn/bias.json"}},
    }  # fmt: skip
    register(churn, model_metrics=metrics)
    reports = churn.registry.describe_model_package(model_package_name="churn/1")["ModelMetricsReports"]
    assert reports == {"ModelQuality.Statistics": REPORT, "ModelQuality.Constraints": {"version": 0.0},
                       "Bias.PostTrainingReport": {"CI": -0.1}}  # fmt: skip


def test_reports_that_are_not_json_or_too_large_stay_references(churn):
    churn.storage.put_object("models", "churn/report.html", b"<html>AUC 0.91</html>")
    churn.storage.put_object("models", "churn/big.json", b'{"pad": "' + b"x" * MAX_REPORT_BYTES + b'"}')
    metrics = {
        "ModelQuality": {"Statistics": {"ContentType": "text/html", "S3Uri": "s3://models/churn/report.html"},
                         "Constraints": {"ContentType": "application/json", "S3Uri": "s3://models/churn/big.json"}},
    }  # fmt: skip
    register(churn, model_metrics=metrics)
    described = churn.registry.describe_model_package(model_package_name="churn/1")
    assert described["ModelMetrics"] == metrics and "ModelMetricsReports" not in described


@pytest.mark.parametrize("body", [b"AUC: 0.91", b'{"auc": NaN}', b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000])
def test_a_report_that_says_json_and_is_not_is_refused(churn, body):
    churn.storage.put_object("models", "churn/evaluation.json", body)
    with pytest.raises(ValidationError) as raised:
        register(churn, model_metrics=quality_metrics())
    assert raised.value.field == "ModelMetrics.ModelQuality.Statistics.S3Uri" and "not a JSON report" in str(raised.value)
    assert churn.registry.list_model_packages()["ModelPackageSummaryList"] == []
