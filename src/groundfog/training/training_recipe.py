"""How a training job runs: channels in, script (or built-in algorithm) per host,
checkpoints synced, ``model.tar.gz`` and ``output.tar.gz`` out."""

from __future__ import annotations

import shutil
import socket
import sys
from typing import TYPE_CHECKING, Any

from groundfog.training import catalog, isolation
from groundfog.training.driver import Ending, HostCommand
from groundfog.training.pipe_mode import PipeFeeder
from groundfog.training.environment import HostLayout, host_names, script_arguments, toolkit_environment, typed_hyperparameters, write_config_files
from groundfog.training.requirements_env import environment_for
from groundfog.training.transfer import DirectorySync, artifact_uri, download_channel, download_prefix, fetch_source, upload_archive

if TYPE_CHECKING:
    from groundfog.training.driver import Driver

FRAMEWORK_MODULES = {
    "sklearn": "sagemaker_sklearn_container.training:main",
    "xgboost": "sagemaker_xgboost_container.training:main",
    "pytorch": "sagemaker_pytorch_container.training:main",
}
BUILTIN_MODULE = "groundfog.training.algorithms.xgboost_algorithm"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TrainingRecipe:
    core_kind = "training-host"

    def __init__(self) -> None:
        self._syncs: list[DirectorySync] = []
        self._feeders: list[PipeFeeder] = []
        self._attempt_over = False  # no pipes to feed once an attempt has ended

    def _start_feeders(self, driver: "Driver") -> None:
        """Feed every Pipe channel's FIFOs of every host (again, if a feeder died with a
        platform that crashed)."""
        piped = [c for c in driver.spec["InputDataConfig"] if c["InputMode"] == "Pipe"]
        if not piped or (self._feeders and all(f.alive for f in self._feeders)):
            return
        self._stop_feeders()
        self._feeders = [PipeFeeder(driver.service.storage, c["S3Uri"], layout.data_dir, c["ChannelName"]).start()
                         for layout in self._layouts(driver) for c in piped]  # fmt: skip

    def _stop_feeders(self) -> None:
        for feeder in self._feeders:
            feeder.stop()
        self._feeders = []

    def _layouts(self, driver: "Driver") -> list[HostLayout]:
        return [HostLayout(driver.job_dir, h) for h in host_names(driver.spec["ResourceConfig"]["InstanceCount"])]

    def prepare(self, driver: "Driver", attempt: int) -> None:
        spec, storage = driver.spec, driver.service.storage
        progress = driver.progress
        data_dir = driver.job_dir / "data"
        if not progress.get("downloaded"):
            for channel in spec["InputDataConfig"]:
                if channel["InputMode"] == "Pipe":
                    driver.say(f"Channel {channel['ChannelName']}: {channel['ObjectCount']} file(s), "
                               f"{channel['Bytes']} bytes streamed through {channel['ChannelName']}_<epoch> pipes "
                               f"from {channel['S3Uri']}")  # fmt: skip
                    continue
                files, size = download_channel(
                    storage, channel["S3Uri"], data_dir / channel["ChannelName"], channel["InputMode"], "S3Uri"
                )
                how = "linked in place" if channel["InputMode"] == "FastFile" else "downloaded"
                driver.say(f"Channel {channel['ChannelName']}: {files} file(s), {size} bytes {how} from {channel['S3Uri']}")
            progress["downloaded"] = True
        source = spec.get("Source")
        code_dir = driver.job_dir / "code"
        if source and not progress.get("code_ready"):
            fetch_source(storage, source["SubmitDirectory"], code_dir)
            progress["code_ready"] = True
        python = sys.executable
        if source and (code_dir / "requirements.txt").is_file():
            driver.say("Installing requirements.txt (cached per content)")
            python = str(environment_for(code_dir / "requirements.txt", driver.service.config.home / "envs", driver.log_path))
        progress["python"] = python
        progress["master_port"] = _free_port()
        hosts = host_names(spec["ResourceConfig"]["InstanceCount"])
        checkpoints = spec.get("CheckpointConfig")
        for layout in self._layouts(driver):
            layout.make()
            for channel in spec["InputDataConfig"]:
                link = layout.channel_dir(channel["ChannelName"])
                if channel["InputMode"] != "Pipe" and not link.exists():
                    link.symlink_to(data_dir / channel["ChannelName"], target_is_directory=True)
            write_config_files(
                layout, hyperparameters=spec["HyperParameters"], hosts=hosts,
                input_data_config=self._input_data_config(spec), checkpoint_config=checkpoints,
                view=layout.view(isolation.mount_available()),
            )  # fmt: skip
            if checkpoints:
                local = layout.container_path(checkpoints["LocalPath"])
                local.mkdir(parents=True, exist_ok=True)
                restored = download_prefix(storage, checkpoints["S3Uri"], local)
                if restored:
                    driver.say(f"{layout.host}: restored {restored} checkpoint file(s) from {checkpoints['S3Uri']}")
        driver.update(progress=progress)

    @staticmethod
    def _input_data_config(spec: dict[str, Any]) -> dict[str, Any]:
        return {
            c["ChannelName"]: {
                "ContentType": c["ContentType"] or "application/octet-stream", "TrainingInputMode": c["InputMode"],
                "S3DistributionType": c["S3DataDistributionType"], "RecordWrapperType": "None",
            }
            for c in spec["InputDataConfig"]
        }  # fmt: skip

    def commands(self, driver: "Driver", attempt: int) -> list[HostCommand]:
        self._attempt_over = False
        self._start_feeders(driver)
        spec, progress = driver.spec, driver.progress
        hosts = host_names(spec["ResourceConfig"]["InstanceCount"])
        source = spec.get("Source")
        resources = spec["LocalResources"]
        out = []
        mounted = isolation.mount_available()
        for layout in self._layouts(driver):
            entry = source["EntryPoint"] if source else BUILTIN_MODULE
            env = toolkit_environment(
                layout=layout.view(mounted), job_name=driver.name, hosts=hosts,
                channels=[c["ChannelName"] for c in spec["InputDataConfig"]],
                hyperparameters=spec["HyperParameters"], input_data_config=self._input_data_config(spec),
                entry_point=entry, module_dir=source["SubmitDirectory"] if source else "",
                framework_module=FRAMEWORK_MODULES[spec["Framework"]], num_cpus=resources["cpus_per_host"],
                master_port=progress["master_port"],
            )  # fmt: skip
            env["SM_CURRENT_INSTANCE_TYPE"] = spec["ResourceConfig"]["InstanceType"]
            env["TRAINING_JOB_NAME"] = driver.name
            env.update(spec.get("Environment", {}))
            python = progress.get("python", sys.executable)
            if source:
                code_dir = driver.job_dir / "code"
                env["PYTHONPATH"] = str(code_dir)
                args = script_arguments(typed_hyperparameters(spec["HyperParameters"]))
                program = [python, entry] if entry.endswith(".py") else ["/bin/sh", entry]
                argv, workdir = [*program, *args], code_dir
            else:
                argv, workdir = [python, "-m", BUILTIN_MODULE], layout.job_dir / layout.host
            if mounted:
                argv = isolation.wrap(argv, layout.real_root)
            # The instance's memory caps the host's address space (RLIMIT_AS), as far as
            # one machine can: an out-of-memory job fails here as it would on its instance.
            out.append(HostCommand(layout.host, argv, env, workdir, cpus=resources["cpus_per_host"], memory_mb=resources["memory_mb_per_host"]))
        return out

    def during(self, driver: "Driver") -> None:
        if not self._attempt_over:
            self._start_feeders(driver)  # a no-op while they run; after a crash, they start again
        checkpoints = driver.spec.get("CheckpointConfig")
        if not checkpoints:
            return
        if not self._syncs:
            self._syncs = [
                DirectorySync(driver.service.storage, layout.container_path(checkpoints["LocalPath"]), checkpoints["S3Uri"])
                for layout in self._layouts(driver)
            ]
        for sync in self._syncs:
            sync.sync()

    def after_interruption(self, driver: "Driver") -> None:
        # A reclaimed instance takes its disk with it: the next attempt starts on a fresh one.
        self._attempt_over = True
        self._stop_feeders()
        self._syncs = []
        for layout in self._layouts(driver):
            shutil.rmtree(layout.job_dir / layout.host, ignore_errors=True)

    def upload(self, driver: "Driver", ending: Ending) -> dict[str, Any]:
        spec, progress = driver.spec, driver.progress
        storage = driver.service.storage
        self._attempt_over = True
        self._stop_feeders()
        result: dict[str, Any] = {}
        leader = self._layouts(driver)[0]
        if ending.status != "Failed" and (leader.model_dir.is_dir() or ending.status == "Completed"):
            output_path = spec["OutputDataConfig"]["S3OutputPath"]
            leader.model_dir.mkdir(parents=True, exist_ok=True)
            model = upload_archive(storage, leader.model_dir, artifact_uri(output_path, driver.name, "model.tar.gz"))
            result["ModelArtifacts"] = {"S3ModelArtifacts": model}
            if leader.output_data_dir.is_dir() and any(leader.output_data_dir.iterdir()):
                result["OutputDataUri"] = upload_archive(
                    storage, leader.output_data_dir, artifact_uri(output_path, driver.name, "output.tar.gz")
                )
            driver.say(f"Uploaded the model to {model}")
        self.during(driver)
        running = float(progress.get("running_seconds", 0.0))
        now = driver.service.clock.time()
        started = progress.get("training_started_at", now)
        instance = spec["ResourceConfig"]["InstanceType"]
        count = spec["ResourceConfig"]["InstanceCount"]
        spot = spec.get("EnableManagedSpotTraining", False)
        billable = catalog.spot_billable_seconds(running, instance) if spot else running
        cost = catalog.job_cost(instance, count, running, spot=spot)
        training_time = max(1, round(max(now - started, running)))
        billable = max(1, round(billable)) if running > 0 else 0
        result.update(
            TrainingTimeInSeconds=training_time,
            BillableTimeInSeconds=billable,
            RunningTimeInSeconds=round(running, 3),
            SpotInterruptions=progress.get("interruptions", []),
            Cost=cost.model_dump() if hasattr(cost, "model_dump") else dict(vars(cost)),
        )
        if spot:
            # SageMaker's own formula, over the whole seconds it reports.
            result["SavingsPercent"] = round((1 - billable / training_time) * 100, 1)
        finals = []
        for name, values in driver.service.metric_series(driver.name).items():
            if values:
                finals.append({"MetricName": name, "Value": values[-1], "Timestamp": now})
        result["FinalMetricDataList"] = finals
        return result
