"""The pipelines SDK: SageMaker pipeline code, with groundfog imports.

Everything ``sagemaker.workflow.*`` names for building a pipeline is here under the same
name: parameters, step properties, ``Join`` / ``JsonGet`` / ``ExecutionVariables``,
conditions, the steps, cache and retry policies, ``Pipeline`` and ``PipelineSession``.
The job steps take the training SDK's ``Estimator`` / ``Processor`` /
``HyperparameterTuner`` (``import groundfog as gf``).

>>> import groundfog as gf
>>> from groundfog.pipelines.sdk import (ConditionGreaterThanOrEqualTo, ConditionStep, FailStep,
...     JsonGet, ParameterFloat, Pipeline, ProcessingStep, PropertyFile, RegisterModel, TrainingStep)
>>> min_accuracy = ParameterFloat("MinAccuracy", default_value=0.8)
>>> report = PropertyFile("EvaluationReport", output_name="evaluation", path="evaluation.json")
>>> evaluate = ProcessingStep("Evaluate", processor=gf.SKLearnProcessor(), code="evaluate.py",  # doctest: +SKIP
...     outputs=[gf.ProcessingOutput(source="/opt/ml/processing/evaluation", output_name="evaluation")],
...     property_files=[report])
>>> check = ConditionStep("Check",                                                              # doctest: +SKIP
...     conditions=[ConditionGreaterThanOrEqualTo(JsonGet(step=evaluate, property_file=report,
...                                                       json_path="metrics.accuracy.value"), min_accuracy)],
...     if_steps=[RegisterModel("Register", "churn", model_data=..., image_uri="sklearn")],
...     else_steps=[FailStep("TooInaccurate", error_message="accuracy below threshold")])
>>> Pipeline("churn", parameters=[min_accuracy], steps=[evaluate, check]).upsert()             # doctest: +SKIP
"""

from __future__ import annotations

from groundfog.pipelines.sdk.conditions import (
    Condition,
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
    ConditionTypeEnum,
)
from groundfog.pipelines.sdk.execution import PipelineExecution, PipelineExecutionFailed
from groundfog.pipelines.sdk.function_steps import (
    CallbackOutput,
    CallbackOutputTypeEnum,
    CallbackStep,
    FunctionOutput,
    FunctionStep,
    Lambda,
    LambdaOutput,
    LambdaOutputTypeEnum,
    LambdaStep,
)
from groundfog.pipelines.sdk.functions import ExecutionVariable, ExecutionVariables, Join, JsonGet, PropertyFile
from groundfog.pipelines.sdk.job_arguments import StepArguments
from groundfog.pipelines.sdk.job_steps import ProcessingStep, TrainingStep, TuningStep
from groundfog.pipelines.sdk.model_metrics import FileSource, MetricsSource, ModelMetrics
from groundfog.pipelines.sdk.model_steps import CreateModelStep, ModelStep, RegisterModel
from groundfog.pipelines.sdk.parameters import (
    Parameter,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    ParameterTypeEnum,
)
from groundfog.pipelines.sdk.pipeline import Pipeline
from groundfog.pipelines.sdk.policies import (
    CacheConfig,
    ParallelismConfiguration,
    RetryPolicy,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from groundfog.pipelines.sdk.properties import Properties
from groundfog.pipelines.sdk.session import PipelineSession
from groundfog.pipelines.sdk.steps import ConditionStep, FailStep, Step, StepTypeEnum
from groundfog.pipelines.sdk.variables import PipelineVariable

__all__ = [
    # parameters and run-time values
    "Parameter", "ParameterString", "ParameterInteger", "ParameterFloat", "ParameterBoolean", "ParameterTypeEnum",
    "PipelineVariable", "Properties", "Join", "JsonGet", "PropertyFile", "ExecutionVariable", "ExecutionVariables",
    # conditions
    "Condition", "ConditionTypeEnum", "ConditionEquals", "ConditionGreaterThan", "ConditionGreaterThanOrEqualTo",
    "ConditionLessThan", "ConditionLessThanOrEqualTo", "ConditionIn", "ConditionNot", "ConditionOr",
    # steps
    "Step", "StepTypeEnum", "StepArguments", "ProcessingStep", "TrainingStep", "TuningStep", "ModelStep",
    "CreateModelStep", "RegisterModel", "ModelMetrics", "MetricsSource", "FileSource", "ConditionStep", "FailStep",
    "FunctionStep", "FunctionOutput", "LambdaStep", "Lambda", "LambdaOutput", "LambdaOutputTypeEnum",
    "CallbackStep", "CallbackOutput", "CallbackOutputTypeEnum",
    # policies
    "CacheConfig", "RetryPolicy", "StepRetryPolicy", "StepExceptionTypeEnum", "SageMakerJobStepRetryPolicy",
    "SageMakerJobExceptionTypeEnum", "ParallelismConfiguration",
    # the pipeline
    "Pipeline", "PipelineExecution", "PipelineExecutionFailed", "PipelineSession",
]  # fmt: skip
