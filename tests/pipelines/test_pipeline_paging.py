"""ListPipelines and ListPipelineExecutions page with MaxResults and NextToken."""

from __future__ import annotations

import pytest
from pipeline_helpers import definition

from groundfog.core.errors import ValidationError

FAILING = definition({"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "stop"}})


def _names(answer: dict, key: str, field: str) -> list[str]:
    return [item[field] for item in answer[key]]


def test_pipelines_and_their_executions_come_page_by_page(platform):
    for name in ("p-a", "p-b", "p-c"):
        platform.pipelines.upsert_pipeline(pipeline_name=name, pipeline_definition=FAILING)
    first = platform.pipelines.list_pipelines(max_results=2, sort_by="Name", sort_order="Ascending")
    assert _names(first, "PipelineSummaries", "PipelineName") == ["p-a", "p-b"]
    rest = platform.pipelines.list_pipelines(max_results=2, sort_by="Name", sort_order="Ascending",
                                             next_token=first["NextToken"])  # fmt: skip
    assert _names(rest, "PipelineSummaries", "PipelineName") == ["p-c"] and "NextToken" not in rest

    started = [platform.pipelines.start_pipeline_execution(pipeline_name="p-a")["PipelineExecutionArn"]
               for _ in range(3)]  # fmt: skip
    for arn in started:
        platform.pipelines.wait_for_pipeline_execution(pipeline_execution_arn=arn, timeout=30)
    seen, token = [], None
    while True:
        page = platform.pipelines.list_pipeline_executions(pipeline_name="p-a", max_results=2, sort_order="Ascending",
                                                           **({"next_token": token} if token else {}))  # fmt: skip
        seen += _names(page, "PipelineExecutionSummaries", "PipelineExecutionArn")
        token = page.get("NextToken")
        if token is None:
            break
    assert sorted(seen) == sorted(started) and len(seen) == 3
    by_arn = platform.pipelines.list_pipeline_executions(pipeline_name="p-a", sort_by="PipelineExecutionArn",
                                                         sort_order="Ascending")  # fmt: skip
    assert _names(by_arn, "PipelineExecutionSummaries", "PipelineExecutionArn") == sorted(started)


def test_paging_arguments_are_checked(platform):
    platform.pipelines.upsert_pipeline(pipeline_name="p", pipeline_definition=FAILING)
    with pytest.raises(ValidationError, match="MaxResults must be a whole number from 1 to 1000"):
        platform.pipelines.list_pipelines(max_results=0)
    with pytest.raises(ValidationError, match="SortBy must be CreationTime or PipelineExecutionArn"):
        platform.pipelines.list_pipeline_executions(pipeline_name="p", sort_by="Name")
    with pytest.raises(ValidationError) as refused:
        platform.pipelines.list_pipeline_executions(pipeline_name="p", next_token="nope")
    assert refused.value.field == "NextToken"
