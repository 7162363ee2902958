"""Pipelines as targets of event rules and schedules (EventBridge's SageMaker pipeline target).

A rule's target names the pipeline and, in ``SageMakerPipelineParameters``, maps the
event to parameters; the events service resolves that mapping when it shapes the
target's input (a value the event lacks sends the delivery to the dead letters with the
reason, before any execution starts). What arrives here is either that shaped input,
``{"PipelineParameterList": [...], "ClientRequestToken": ...}``, or the bare event for a
target without parameters. The token makes a redelivered event start one execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groundfog.pipelines.service import PipelinesService


def start_from_event(service: "PipelinesService", target_arn: str, payload: Any) -> None:
    parameters: list[dict[str, Any]] = []
    token = None
    description = "started by an event rule"
    if isinstance(payload, dict) and "PipelineParameterList" in payload:
        parameters = payload["PipelineParameterList"]
        token = payload.get("ClientRequestToken")
        if payload.get("RuleArn"):
            description = f"started by rule {payload['RuleArn']} (event {payload.get('EventId', '?')})"
    elif isinstance(payload, dict) and isinstance(payload.get("id"), str):
        description = f"started by event {payload['id']} ({payload.get('detail-type', '?')})"
    service.start_pipeline_execution(
        pipeline_name=target_arn, pipeline_parameters=parameters, pipeline_execution_description=description,
        client_request_token=token,
    )
