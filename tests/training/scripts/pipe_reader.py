"""Reads its channel in Pipe mode, as SageMaker's PipeModeDataset does: train_0, then train_1."""

import hashlib
import json
import os

data = "/opt/ml/input/data" if os.path.isdir("/opt/ml/input/data") else os.path.dirname(os.environ["SM_CHANNEL_TRAIN"])
config = json.loads(os.environ["SM_INPUT_DATA_CONFIG"])
report = {"mode": config["train"]["TrainingInputMode"], "epochs": []}
for epoch in range(int(os.environ.get("EPOCHS", "2"))):
    with open(os.path.join(data, f"train_{epoch}"), "rb") as pipe:
        body = pipe.read()
    report["epochs"].append({"bytes": len(body), "md5": hashlib.md5(body).hexdigest()})
    print(f"epoch {epoch}: {len(body)} bytes", flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "report.json"), "w") as f:
    json.dump(report, f)
