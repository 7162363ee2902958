"""The SDK's public surface changes only on purpose (as httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import groundfog.pipelines.sdk as sdk

PUBLIC = {
    "Parameter", "ParameterString", "ParameterInteger", "ParameterFloat", "ParameterBoolean", "ParameterTypeEnum",
    "PipelineVariable", "Properties", "Join", "JsonGet", "PropertyFile", "ExecutionVariable", "ExecutionVariables",
    "Condition", "ConditionTypeEnum", "ConditionEquals", "ConditionGreaterThan", "ConditionGreaterThanOrEqualTo",
    "ConditionLessThan", "ConditionLessThanOrEqualTo", "ConditionIn", "ConditionNot", "ConditionOr",
    "Step", "StepTypeEnum", "StepArguments", "ProcessingStep", "TrainingStep", "TuningStep", "ModelStep",
    "CreateModelStep", "RegisterModel", "ModelMetrics", "MetricsSource", "FileSource", "ConditionStep", "FailStep",
    "FunctionStep", "FunctionOutput", "LambdaStep", "Lambda", "LambdaOutput", "LambdaOutputTypeEnum",
    "CallbackStep", "CallbackOutput", "CallbackOutputTypeEnum",
    "CacheConfig", "RetryPolicy", "StepRetryPolicy", "StepExceptionTypeEnum", "SageMakerJobStepRetryPolicy",
    "SageMakerJobExceptionTypeEnum", "ParallelismConfiguration",
    "Pipeline", "PipelineExecution", "PipelineExecutionFailed", "PipelineSession",
}  # fmt: skip


def test_the_sdk_exports_exactly_its_public_names_and_each_one_exists():
    assert set(sdk.__all__) == PUBLIC and len(sdk.__all__) == len(PUBLIC)
    assert all(getattr(sdk, name) is not None for name in sdk.__all__)
