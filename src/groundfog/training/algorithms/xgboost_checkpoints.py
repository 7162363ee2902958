"""The XGBoost algorithm's checkpoints: ``xgboost-checkpoint.<round>`` written to the
job's checkpoint directory after every round (atomically; the last few kept), and the
newest one that loads found again when the job resumes, after a spot interruption or
a restart.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import xgboost as xgb

__all__ = ["CHECKPOINTS_KEPT", "CHECKPOINT_PREFIX"]

CHECKPOINT_PREFIX = "xgboost-checkpoint"
CHECKPOINTS_KEPT = 5  # as SageMaker's container: enough to survive a bad write, few to upload
_CHECKPOINT_NAME = re.compile(rf"^{re.escape(CHECKPOINT_PREFIX)}\.(\d+)$")


class _SaveCheckpoints(xgb.callback.TrainingCallback):
    """Writes ``xgboost-checkpoint.<round>`` after every round (atomically: a temp file
    the checkpoint uploader ignores, then a rename) and keeps the last few."""

    def __init__(self, directory: Path, first_round: int) -> None:
        self.directory = directory
        self.first_round = first_round
        directory.mkdir(parents=True, exist_ok=True)

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        round_ = self.first_round + epoch
        _write_atomically(self.directory / f"{CHECKPOINT_PREFIX}.{round_}", bytes(model.save_raw("ubj")))
        for path in self.directory.iterdir():
            match = _CHECKPOINT_NAME.match(path.name)
            if match and int(match.group(1)) <= round_ - CHECKPOINTS_KEPT:
                path.unlink(missing_ok=True)
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    # A temp name the checkpoint uploader skips (SageMaker ignores *.sagemaker-ignore),
    # then a rename: a reader never sees half a model. Plain open() keeps the umask's
    # permissions, which a NamedTemporaryFile (0600) would not.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.sagemaker-ignore")
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, path)


def _latest_checkpoint(directory: Path) -> tuple[xgb.Booster, int, str] | None:
    """The newest loadable checkpoint, the round after it, and its file name."""
    if not directory.is_dir():
        return None
    found = sorted(
        ((int(m.group(1)), path) for path in directory.iterdir() if (m := _CHECKPOINT_NAME.match(path.name))),
        reverse=True,
    )
    for round_, path in found:
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(path.read_bytes()))
        except xgb.core.XGBoostError:
            print(f"Skipping checkpoint {path.name}: it does not load as an XGBoost model", flush=True)
            continue
        return booster, round_ + 1, path.name
    return None


def _resume(checkpoint_dir: Path | None, num_round: int) -> tuple[xgb.Booster | None, int]:
    """The model to continue from and the round it continues at (None, 0 for a fresh start)."""
    resumed = _latest_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
    if resumed is None:
        return None, 0
    booster, first_round, name = resumed
    print(f"Resuming from checkpoint {name}: continuing at round {first_round}", flush=True)
    if first_round >= num_round:
        print(f"The checkpoint already has {first_round} rounds (num_round is {num_round}): nothing left to train", flush=True)
    return booster, first_round
