"""Lazy step properties: what a step will report, addressed before it has run.

Every step has ``.properties``; attribute chains and ``[...]`` build a path into the
step's Describe* response (``DescribeTrainingJob`` for a training step, ...), which the
engine reads when a later step needs the value. Names are the AWS response's names.

>>> train = Properties("Steps.Train")
>>> train.ModelArtifacts.S3ModelArtifacts.expr
{'Get': 'Steps.Train.ModelArtifacts.S3ModelArtifacts'}
>>> Properties("Steps.Prep").ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri.expr
{'Get': "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
>>> Properties("Steps.Tune").TrainingJobSummaries[0].TrainingJobName.expr
{'Get': 'Steps.Tune.TrainingJobSummaries[0].TrainingJobName'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groundfog.pipelines.sdk.variables import PipelineVariable


class Properties(PipelineVariable):
    """A path into a step's reported properties; any attribute or index extends it.

    ``aliases`` renames first-level attributes: a function step's ``Outputs`` is its
    ``OutputParameters``, as in SageMaker's ``LambdaStep``.
    """

    def __init__(self, path: str, aliases: Mapping[str, str] | None = None) -> None:
        self._path = path
        self._aliases = dict(aliases or {})

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": self._path}

    def __getattr__(self, name: str) -> Properties:
        # Private and dunder names are Python's probes (copy, pickle, IPython), never AWS's.
        if name.startswith("_"):
            raise AttributeError(name)
        return Properties(f"{self._path}.{self._aliases.get(name, name)}")

    def __getitem__(self, key: str | int) -> Properties:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(f"{self._path}[...] takes an output name (str) or a list index (int), got {key!r}")
        if isinstance(key, int):
            return Properties(f"{self._path}[{key}]")
        quoted = f'["{key}"]' if "'" in key else f"['{key}']"
        return Properties(f"{self._path}{quoted}")

    def __repr__(self) -> str:
        return f"Properties({self._path!r})"


def step_properties(step_name: str, *, outputs_alias: bool = False) -> Properties:
    """The root of a step's properties: ``Steps.<name>``."""
    return Properties(f"Steps.{step_name}", aliases={"Outputs": "OutputParameters"} if outputs_alias else None)
