"""``groundfog training|processing|tuning ...``, shaped like ``aws sagemaker``'s job commands.

    groundfog training create --entry-point train.py --source-dir src --framework sklearn \\
        --hyperparameter n-estimators=100 --channel train=s3://data/train/ --wait
    groundfog training create --file request.json          # a CreateTrainingJob request
    groundfog training logs rf-1 --follow
    groundfog processing create --code prep.py --input s3://data/raw/=/opt/ml/processing/input \\
        --output /opt/ml/processing/train --wait -- --test-size 0.2
    groundfog tuning create --file tuning.json --wait
    groundfog tuning list-training-jobs rf-tuning

``--file`` takes the request as the API spells it (PascalCase keys), like ``aws ...
--cli-input-json``. ``--wait`` and ``--follow`` show a live status line on stderr when it
is a terminal; stdout holds only the records (or ``--json``).

The commands are in ``training_cli``, ``processing_cli`` and ``tuning_cli``, with what
they share in ``jobs_cli``; this module gathers their three apps for the root command.
"""

from __future__ import annotations

from groundfog.training.processing_cli import processing_app
from groundfog.training.training_cli import training_app
from groundfog.training.tuning_cli import tuning_app

__all__ = ["processing_app", "training_app", "tuning_app"]
