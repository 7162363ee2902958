"""The registry from the SageMaker-style SDK: a trained estimator registers a version,
``ModelPackage`` approves or rejects it, and approval reaches a rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import groundfog as gf
from groundfog.core.errors import ValidationError
from groundfog.labs.retrain_on_upload import SCRIPTS, dataset_csv


@pytest.fixture
def trained(rp):
    rp.storage.create_bucket("data")
    rp.storage.put_object("data", "train/all.csv", dataset_csv())
    estimator = gf.SKLearn(entry_point=str(SCRIPTS / "train.py"), platform=rp)
    estimator.fit({"train": "s3://data/train/"}, logs=False)
    return rp, estimator


def test_an_estimator_registers_and_a_model_package_is_approved(trained, tmp_path: Path):
    platform, estimator = trained
    sink = tmp_path / "approved.jsonl"
    topic = platform.topics.create_topic(name="approved")
    platform.topics.subscribe(topic_arn=topic.topic_arn, protocol="file", endpoint=str(sink),
                              attributes={"RawMessageDelivery": "true"})
    platform.events.put_rule(name="deploy-approved", event_pattern={
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["Approved"]}})
    platform.events.put_targets(rule="deploy-approved", targets=[{"Id": "t", "Arn": topic.topic_arn}])

    group = gf.ModelPackageGroup("cancer", platform=platform).create()
    first = estimator.register(model_package_group_name="cancer", content_types=["text/csv"],
                               response_types=["text/csv"], inference_instances=["ml.m5.large"])
    second = estimator.register(model_package_group_name="cancer", content_types=["text/csv"],
                                response_types=["text/csv"])
    assert [p.describe()["ModelPackageVersion"] for p in (first, second)] == [1, 2]
    described = first.describe()
    assert described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == estimator.model_data
    assert described["Lineage"]["TrainingJobArn"] == estimator.latest_training_job.describe()["TrainingJobArn"]
    assert group.latest_approved() is None

    first.reject("worse than production")
    second.approve("better than production")
    assert (first.approval_status, second.approval_status) == ("Rejected", "Approved")
    assert group.latest_approved().model_package_arn == second.model_package_arn
    assert [p.model_package_arn for p in group.versions("Rejected")] == [first.model_package_arn]

    assert platform.events.drain(10)
    events = [json.loads(line) for line in sink.read_text().splitlines()]
    assert [e["detail"]["ModelPackageArn"] for e in events] == [second.model_package_arn]


def test_register_needs_a_group_and_a_finished_job(rp):
    estimator = gf.SKLearn(entry_point=str(SCRIPTS / "train.py"), platform=rp)
    with pytest.raises(ValidationError, match="fit"):
        estimator.register(model_package_group_name="cancer")
    with pytest.raises(ValidationError, match="model_package_group_name"):
        estimator.register()
