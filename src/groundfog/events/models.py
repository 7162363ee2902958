"""The events service's resources, in EventBridge / SNS / Lambda shapes.

Fields are snake_case with AWS's PascalCase as aliases, so both
``Target(id="t1", arn=...)`` and ``Target.model_validate({"Id": "t1", "Arn": ...})``
work, and ``--json`` output reads like the AWS CLI's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class _Strict(BaseModel):
    """Request shapes: unknown keys are mistakes worth naming (``Imput``)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class EventBus(_Model):
    name: str = Field(alias="Name")
    arn: str = Field(alias="Arn")
    description: str | None = Field(default=None, alias="Description")
    creation_time: datetime = Field(alias="CreationTime")


class Rule(_Model):
    name: str = Field(alias="Name")
    arn: str = Field(alias="Arn")
    event_bus_name: str = Field(alias="EventBusName")
    state: str = Field(alias="State")
    event_pattern: str | None = Field(default=None, alias="EventPattern")
    schedule_expression: str | None = Field(default=None, alias="ScheduleExpression")
    description: str | None = Field(default=None, alias="Description")
    next_fire_time: datetime | None = Field(default=None, alias="NextFireTime")


class InputTransformer(_Strict):
    input_template: str = Field(alias="InputTemplate")
    input_paths_map: dict[str, str] = Field(default_factory=dict, alias="InputPathsMap")


class RetryPolicy(_Strict):
    maximum_retry_attempts: int = Field(default=185, alias="MaximumRetryAttempts")
    maximum_event_age_in_seconds: int = Field(default=86400, alias="MaximumEventAgeInSeconds")


class DeadLetterConfig(_Strict):
    arn: str = Field(alias="Arn")


class PipelineParameter(_Strict):
    name: str = Field(alias="Name", min_length=1, max_length=256)
    value: str = Field(alias="Value", max_length=1024)


class SageMakerPipelineParameters(_Strict):
    """Values for a pipeline target's parameters: literal text, a JSON path into the event
    (``$.detail.object.key``), or text with ``<name>`` placeholders of the target's
    ``InputTransformer.InputPathsMap`` (``s3://<bucket>/<key>``)."""

    pipeline_parameter_list: list[PipelineParameter] = Field(
        default_factory=list, alias="PipelineParameterList", max_length=200
    )


class Target(_Strict):
    id: str = Field(alias="Id")
    arn: str = Field(alias="Arn")
    input: str | None = Field(default=None, alias="Input")
    input_path: str | None = Field(default=None, alias="InputPath")
    input_transformer: InputTransformer | None = Field(default=None, alias="InputTransformer")
    retry_policy: RetryPolicy | None = Field(default=None, alias="RetryPolicy")
    dead_letter_config: DeadLetterConfig | None = Field(default=None, alias="DeadLetterConfig")
    sage_maker_pipeline_parameters: SageMakerPipelineParameters | None = Field(
        default=None, alias="SageMakerPipelineParameters"
    )
    # Accepted so AWS-shaped definitions load unchanged; nothing runs under a role locally.
    role_arn: str | None = Field(default=None, alias="RoleArn")


class Function(_Model):
    function_name: str = Field(alias="FunctionName")
    function_arn: str = Field(alias="FunctionArn")
    handler: str = Field(alias="Handler")
    code_path: str | None = Field(default=None, alias="CodePath")
    description: str | None = Field(default=None, alias="Description")
    runtime: str = Field(default="python3", alias="Runtime")
    timeout: float = Field(default=3.0, alias="Timeout")
    last_modified: datetime = Field(alias="LastModified")


class DeadLetter(_Model):
    """A delivery that ran out of retries (or event age), kept for inspection."""

    id: int = Field(alias="Id")
    target_arn: str = Field(alias="TargetArn")
    payload: Any = Field(alias="Payload")
    error: str = Field(alias="ErrorMessage")
    attempts: int = Field(alias="Attempts")
    failed_at: datetime = Field(alias="FailedAt")
    event_id: str | None = Field(default=None, alias="EventId")
    rule_arn: str | None = Field(default=None, alias="RuleArn")
    target_id: str | None = Field(default=None, alias="TargetId")


class Archive(_Model):
    archive_name: str = Field(alias="ArchiveName")
    archive_arn: str = Field(alias="ArchiveArn")
    event_source_arn: str = Field(alias="EventSourceArn")
    state: str = Field(default="ENABLED", alias="State")
    event_pattern: str | None = Field(default=None, alias="EventPattern")
    description: str | None = Field(default=None, alias="Description")
    retention_days: int = Field(default=0, alias="RetentionDays")
    event_count: int = Field(default=0, alias="EventCount")
    size_bytes: int = Field(default=0, alias="SizeBytes")
    creation_time: datetime = Field(alias="CreationTime")


class ReplayDestination(_Strict):
    arn: str = Field(alias="Arn")
    filter_arns: list[str] = Field(default_factory=list, alias="FilterArns")


class Replay(_Model):
    replay_name: str = Field(alias="ReplayName")
    replay_arn: str = Field(alias="ReplayArn")
    event_source_arn: str = Field(alias="EventSourceArn")
    destination: ReplayDestination = Field(alias="Destination")
    event_start_time: datetime = Field(alias="EventStartTime")
    event_end_time: datetime = Field(alias="EventEndTime")
    state: str = Field(alias="State")
    state_reason: str | None = Field(default=None, alias="StateReason")
    description: str | None = Field(default=None, alias="Description")
    events_replayed: int = Field(default=0, alias="EventsReplayed")
    replay_start_time: datetime = Field(alias="ReplayStartTime")
    replay_end_time: datetime | None = Field(default=None, alias="ReplayEndTime")
    event_last_replayed_time: datetime | None = Field(default=None, alias="EventLastReplayedTime")


class Topic(_Model):
    topic_arn: str = Field(alias="TopicArn")
    name: str = Field(alias="Name")


class Subscription(_Model):
    subscription_arn: str = Field(alias="SubscriptionArn")
    topic_arn: str = Field(alias="TopicArn")
    protocol: str = Field(alias="Protocol")
    endpoint: str = Field(alias="Endpoint")
    owner: str = Field(default="000000000000", alias="Owner")
    attributes: dict[str, str] = Field(default_factory=dict, alias="Attributes")
