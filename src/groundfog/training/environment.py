"""What a training script sees: SageMaker's ``/opt/ml`` layout and the training toolkit's
environment, under the job's own directory.

Each host of a job gets ``<job dir>/<host>/opt/ml/`` with ``input/config/*.json``,
``input/data/<channel>/``, ``model/``, ``output/data/`` and ``checkpoints/``, and the
variables the SageMaker training toolkit sets (``SM_MODEL_DIR``, ``SM_CHANNEL_TRAIN``,
``SM_HPS``, ...), plus torch.distributed's (``MASTER_ADDR``, ``WORLD_SIZE``, ``RANK``)
so a script written for SageMaker runs unchanged.

>>> layout = HostLayout(Path("/tmp/job"), "algo-1")
>>> str(layout.model_dir)
'/tmp/job/algo-1/opt/ml/model'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HostLayout", "host_names", "script_arguments", "toolkit_environment", "typed_hyperparameters"]


def host_names(count: int) -> list[str]:
    """``["algo-1", "algo-2", ...]``: SageMaker's host names."""
    return [f"algo-{i}" for i in range(1, count + 1)]


@dataclass(frozen=True)
class HostLayout:
    """One host's ``/opt/ml`` tree under the job directory."""

    job_dir: Path
    host: str
    # The view from inside a host process that has its own /opt/ml (``isolation``).
    mounted: bool = False

    @property
    def root(self) -> Path:
        return Path("/opt/ml") if self.mounted else self.job_dir / self.host / "opt" / "ml"

    @property
    def real_root(self) -> Path:
        return self.job_dir / self.host / "opt" / "ml"

    def view(self, mounted: bool) -> "HostLayout":
        """The same host as its process sees it."""
        return HostLayout(self.job_dir, self.host, mounted)

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def data_dir(self) -> Path:
        return self.input_dir / "data"

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    def container_path(self, path: str) -> Path:
        """A path as the job names it inside its container (``/opt/ml/checkpoints``),
        placed under this host's tree; other absolute paths go under the host dir too."""
        if path.startswith("/opt/ml/") or path == "/opt/ml":
            return self.root / path[len("/opt/ml") :].lstrip("/")
        return self.job_dir / self.host / path.lstrip("/")

    def make(self) -> None:
        for directory in (self.config_dir, self.data_dir, self.model_dir, self.output_data_dir, self.intermediate_dir):
            directory.mkdir(parents=True, exist_ok=True)


def typed_hyperparameters(hyperparameters: dict[str, str]) -> dict[str, Any]:
    """The script's own hyperparameters, JSON-decoded where they parse, as the toolkit does
    (``"100"`` → 100, ``'"gini"'`` → ``"gini"``); the SDK's ``sagemaker_*`` ones left out."""
    out: dict[str, Any] = {}
    for name, raw in hyperparameters.items():
        if name.startswith("sagemaker_"):
            continue
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def script_arguments(hyperparameters: dict[str, Any]) -> list[str]:
    """``{"n-estimators": 100}`` → ``["--n-estimators", "100"]``, as the toolkit passes them."""
    args: list[str] = []
    for name, value in hyperparameters.items():
        text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if isinstance(value, bool):
            text = "True" if value else "False"
        args += [f"--{name}", text]
    return args


def toolkit_environment(
    *,
    layout: HostLayout,
    job_name: str,
    hosts: list[str],
    channels: list[str],
    hyperparameters: dict[str, str],
    input_data_config: dict[str, Any],
    entry_point: str,
    module_dir: str,
    framework_module: str,
    num_cpus: int,
    master_port: int,
    log_level: int = 20,
) -> dict[str, str]:
    """Every ``SM_*`` variable the SageMaker training toolkit sets, for one host."""
    hps = typed_hyperparameters(hyperparameters)
    user_args = script_arguments(hps)
    resource = {"current_host": layout.host, "hosts": hosts, "network_interface_name": "lo"}
    channel_dirs = {c: str(layout.channel_dir(c)) for c in channels}
    module_name = entry_point.rsplit(".", 1)[0].replace("/", ".")
    training_env = {
        "additional_framework_parameters": {k: v for k, v in hyperparameters.items() if k.startswith("sagemaker_")},
        "channel_input_dirs": channel_dirs,
        "current_host": layout.host,
        "framework_module": framework_module,
        "hosts": hosts,
        "hyperparameters": hps,
        "input_config_dir": str(layout.config_dir),
        "input_data_config": input_data_config,
        "input_dir": str(layout.input_dir),
        "is_master": layout.host == hosts[0],
        "job_name": job_name,
        "log_level": log_level,
        "master_hostname": hosts[0],
        "model_dir": str(layout.model_dir),
        "module_dir": module_dir,
        "module_name": module_name,
        "network_interface_name": "lo",
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "output_data_dir": str(layout.output_data_dir),
        "output_dir": str(layout.output_dir),
        "output_intermediate_dir": str(layout.intermediate_dir),
        "resource_config": resource,
        "user_entry_point": entry_point,
    }
    env = {
        "SM_MODEL_DIR": str(layout.model_dir),
        "SM_CHANNELS": json.dumps(channels),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data_dir),
        "SM_OUTPUT_DIR": str(layout.output_dir),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.intermediate_dir),
        "SM_INPUT_DIR": str(layout.input_dir),
        "SM_INPUT_CONFIG_DIR": str(layout.config_dir),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config),
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_USER_ARGS": json.dumps(user_args),
        "SM_MODULE_DIR": module_dir,
        "SM_MODULE_NAME": module_name,
        "SM_USER_ENTRY_POINT": entry_point,
        "SM_FRAMEWORK_MODULE": framework_module,
        "SM_FRAMEWORK_PARAMS": json.dumps(training_env["additional_framework_parameters"]),
        "SM_HPS": json.dumps(hps),
        "SM_HOSTS": json.dumps(hosts),
        "SM_CURRENT_HOST": layout.host,
        "SM_MASTER_HOSTNAME": hosts[0],
        "SM_IS_MASTER": "true" if layout.host == hosts[0] else "false",
        "SM_NETWORK_INTERFACE_NAME": "lo",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": str(log_level),
        "SM_CURRENT_INSTANCE_TYPE": "",
        # torch.distributed's env:// rendezvous; every host is this machine's loopback.
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(master_port),
        "WORLD_SIZE": str(len(hosts)),
        "RANK": str(hosts.index(layout.host)),
        "LOCAL_RANK": "0",
        "NODE_RANK": str(hosts.index(layout.host)),
        "OMP_NUM_THREADS": str(num_cpus),
    }
    for channel, directory in channel_dirs.items():
        env[f"SM_CHANNEL_{channel.upper()}"] = directory
    for name, value in hps.items():
        env[f"SM_HP_{name.upper()}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return env


def write_config_files(
    layout: HostLayout,
    *,
    hyperparameters: dict[str, str],
    hosts: list[str],
    input_data_config: dict[str, Any],
    checkpoint_config: dict[str, str] | None,
    view: HostLayout | None = None,
) -> None:
    """``hyperparameters.json``, ``resourceconfig.json``, ``inputdataconfig.json`` (and
    ``checkpointconfig.json``) in ``input/config``, as SageMaker writes them."""
    layout.config_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {
        "hyperparameters.json": hyperparameters,
        "resourceconfig.json": {
            "current_host": layout.host,
            "hosts": hosts,
            "network_interface_name": "lo",
            "current_group_name": "homogeneousCluster",
            "instance_groups": [{"instance_group_name": "homogeneousCluster", "hosts": hosts}],
        },
        "inputdataconfig.json": input_data_config,
    }
    if checkpoint_config:
        local = (view or layout).container_path(checkpoint_config["LocalPath"])
        files["checkpointconfig.json"] = {"LocalPath": str(local), "S3Uri": checkpoint_config["S3Uri"]}
    for name, content in files.items():
        tmp = layout.config_dir / f".{name}.tmp"
        tmp.write_text(json.dumps(content, indent=2))
        os.replace(tmp, layout.config_dir / name)
