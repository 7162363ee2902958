"""Helpers for the pipelines SDK tests: a platform, script files, a handler defined at
module level (for function steps) and a matcher for content-addressed URIs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

CODE_URI = r"s3://sagemaker-local-000000000000/pipelines/code/[0-9a-f]{64}/"

PREPROCESS = """\
import argparse, glob, os
import pandas as pd
parser = argparse.ArgumentParser()
parser.add_argument("--test-size", type=float, default=0.25)
args = parser.parse_args()
df = pd.concat(pd.read_csv(f) for f in sorted(glob.glob("/opt/ml/processing/input/*.csv")))
test = df.sample(frac=args.test_size, random_state=0)
for name, part in (("train", df.drop(test.index)), ("test", test)):
    os.makedirs(f"/opt/ml/processing/{name}", exist_ok=True)
    part.to_csv(f"/opt/ml/processing/{name}/{name}.csv", index=False)
print(f"split {len(df)} rows")
"""

TRAIN = """\
import argparse, os, joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
parser = argparse.ArgumentParser()
parser.add_argument("--c", type=float, default=1.0)
args, _ = parser.parse_known_args()
df = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
model = LogisticRegression(C=args.c).fit(df[["x"]], df.y)
print(f"train_accuracy={model.score(df[['x']], df.y):.4f}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


def make_platform(home: Path) -> Any:
    from groundfog import Platform
    from groundfog.core.config import Config

    return Platform(Config(home=home))


def write_script(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)


def accuracy_gate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A function step's handler: passes when the reported accuracy reaches the threshold."""
    accuracy = float(event["accuracy"])
    return {"passed": accuracy >= float(event["threshold"]), "margin": round(accuracy - float(event["threshold"]), 4)}


def fails_until_flag_exists(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails while the file ``event["flag"]`` is missing: a step to retry after fixing."""
    if not Path(event["flag"]).exists():
        raise RuntimeError(f"flag {event['flag']} is missing")
    return {"passed": True, "margin": 0.0}


def always_pass(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"passed": True, "margin": 0.0}


class Matches:
    """Equal to any string that fully matches ``pattern`` (for content-addressed URIs)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    def __repr__(self) -> str:
        return f"Matches({self.pattern.pattern!r})"
