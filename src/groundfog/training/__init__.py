"""Training, processing and tuning jobs (SageMaker CreateTrainingJob, CreateProcessingJob,
CreateHyperParameterTuningJob), the instance catalog and its costs, and the
SageMaker-style SDK classes.

>>> from groundfog.training import Estimator, TrainingService, instance_type
>>> instance_type("ml.c5.xlarge").vcpus
4

Modules, by concept: ``requests`` (a request checked before anything runs),
``environment`` (the ``/opt/ml`` layout and ``SM_*`` variables), ``transfer`` (channels,
checkpoints, artifacts), ``isolation`` (a private ``/opt/ml`` per host), ``spot`` (the
interruption model), ``driver`` + ``training_recipe`` / ``processing_recipe`` (a job's
resumable steps), ``driven`` + ``jobs_base`` (ownership after a crash), the three
``*_service`` modules (operations), ``tuning_config`` / ``tuning_search`` /
``tuning_driver`` (tuning on Optuna), ``catalog`` + ``costs`` + ``instances_service``
(instance types and what they cost), ``algorithms`` (built-in XGBoost), ``sdk*``, and
``cli`` (``training_cli``, ``processing_cli``, ``tuning_cli``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.lazy import lazy_exports

_EXPORTS = {
    "TrainingService": "groundfog.training.training_service",
    "ProcessingService": "groundfog.training.processing_service",
    "TuningService": "groundfog.training.tuning_service",
    "InstancesService": "groundfog.training.instances_service",
    "InstanceType": "groundfog.training.catalog",
    "Cost": "groundfog.training.costs",
    "LocalResources": "groundfog.training.catalog",
    "instance_type": "groundfog.training.catalog",
    "list_instance_types": "groundfog.training.catalog",
    "local_resources": "groundfog.training.catalog",
    "job_cost": "groundfog.training.costs",
    "Estimator": "groundfog.training.sdk_estimator",
    "SKLearn": "groundfog.training.sdk_estimator",
    "PyTorch": "groundfog.training.sdk_estimator",
    "XGBoost": "groundfog.training.sdk_estimator",
    "TrainingInput": "groundfog.training.sdk_estimator",
    "Processor": "groundfog.training.sdk_processing",
    "ScriptProcessor": "groundfog.training.sdk_processing",
    "SKLearnProcessor": "groundfog.training.sdk_processing",
    "ProcessingInput": "groundfog.training.sdk_processing",
    "ProcessingOutput": "groundfog.training.sdk_processing",
    "HyperparameterTuner": "groundfog.training.sdk_tuning",
    "IntegerParameter": "groundfog.training.sdk_tuning",
    "ContinuousParameter": "groundfog.training.sdk_tuning",
    "CategoricalParameter": "groundfog.training.sdk_tuning",
    "WarmStartConfig": "groundfog.training.sdk_tuning",
    "HyperbandStrategyConfig": "groundfog.training.sdk_tuning",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from groundfog.training.catalog import InstanceType, LocalResources, instance_type, list_instance_types, local_resources
    from groundfog.training.costs import Cost, job_cost
    from groundfog.training.instances_service import InstancesService
    from groundfog.training.processing_service import ProcessingService
    from groundfog.training.sdk_estimator import PyTorch, SKLearn, Estimator, TrainingInput, XGBoost
    from groundfog.training.sdk_processing import ProcessingInput, ProcessingOutput, Processor, ScriptProcessor, SKLearnProcessor
    from groundfog.training.sdk_tuning import CategoricalParameter, ContinuousParameter, HyperbandStrategyConfig, HyperparameterTuner, IntegerParameter, WarmStartConfig
    from groundfog.training.training_service import TrainingService
    from groundfog.training.tuning_service import TuningService
