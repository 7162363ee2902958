"""How a processing job runs: inputs to local paths, the container's entrypoint per
host, outputs back to the object store at the end (or continuously)."""

from __future__ import annotations

import json
import shutil
import sys
from typing import TYPE_CHECKING, Any

from groundfog.training import isolation
from groundfog.training.driver import Ending, HostCommand
from groundfog.training.environment import HostLayout, host_names
from groundfog.training.transfer import DirectorySync, download_channel

if TYPE_CHECKING:
    from groundfog.training.driver import Driver

# A container's ``python3`` is the image's Python; here it is the platform's own.
_PYTHONS = ("python", "python3", "/usr/bin/python3", "/usr/local/bin/python3", "/opt/conda/bin/python")


class ProcessingRecipe:
    core_kind = "processing-host"

    def __init__(self) -> None:
        self._syncs: dict[str, list[DirectorySync]] = {}

    def _layouts(self, driver: "Driver") -> list[HostLayout]:
        count = driver.spec["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        return [HostLayout(driver.job_dir, h) for h in host_names(count)]

    def prepare(self, driver: "Driver", attempt: int) -> None:
        spec, storage = driver.spec, driver.service.storage
        hosts = host_names(spec["ProcessingResources"]["ClusterConfig"]["InstanceCount"])
        for layout in self._layouts(driver):
            layout.root.mkdir(parents=True, exist_ok=True)
            for item in spec["ProcessingInputs"]:
                files, size = download_channel(
                    storage, item["S3Uri"], layout.container_path(item["LocalPath"]), item["S3InputMode"], "S3Uri"
                )
                if layout.host == hosts[0]:
                    driver.say(f"Input {item['InputName']}: {files} file(s), {size} bytes from {item['S3Uri']} to {item['LocalPath']}")
            for item in spec["ProcessingOutputs"]:
                layout.container_path(item["LocalPath"]).mkdir(parents=True, exist_ok=True)
            config_dir = layout.root / "config"
            config_dir.mkdir(parents=True, exist_ok=True)
            (config_dir / "resourceconfig.json").write_text(json.dumps({"current_host": layout.host, "hosts": hosts}))
            (config_dir / "processingjobconfig.json").write_text(json.dumps({"ProcessingJobName": driver.name, **spec}, default=str))

    def commands(self, driver: "Driver", attempt: int) -> list[HostCommand]:
        spec = driver.spec
        app = spec["AppSpecification"]
        out = []
        mounted = isolation.mount_available()
        for layout in self._layouts(driver):
            argv = [*app["ContainerEntrypoint"], *app["ContainerArguments"]]
            if not mounted:
                argv = [self._path(layout, arg) for arg in argv]
            if argv[0] in _PYTHONS:
                argv[0] = sys.executable
            if mounted:
                argv = isolation.wrap(argv, layout.real_root)
            env = {**spec["Environment"], "SM_CURRENT_HOST": layout.host, "PROCESSING_JOB_NAME": driver.name}
            resources = spec["LocalResources"]
            out.append(HostCommand(layout.host, argv, env, layout.job_dir / layout.host,
                                   cpus=resources["cpus_per_host"], memory_mb=resources["memory_mb_per_host"]))
        return out

    @staticmethod
    def _path(layout: HostLayout, arg: str) -> str:
        # Arguments naming the container's /opt/ml tree point into this host's copy of it.
        return str(layout.container_path(arg)) if arg.startswith("/opt/ml/") else arg

    def _sync_outputs(self, driver: "Driver", continuous_only: bool) -> None:
        for layout in self._layouts(driver):
            syncs = self._syncs.get(layout.host)
            if syncs is None:
                syncs = self._syncs[layout.host] = [
                    DirectorySync(driver.service.storage, layout.container_path(o["LocalPath"]), o["S3Uri"])
                    for o in driver.spec["ProcessingOutputs"]
                ]
            for output, sync in zip(driver.spec["ProcessingOutputs"], syncs):
                if not continuous_only or output["S3UploadMode"] == "Continuous":
                    sync.sync()

    def during(self, driver: "Driver") -> None:
        self._sync_outputs(driver, continuous_only=True)

    def after_interruption(self, driver: "Driver") -> None:
        for layout in self._layouts(driver):
            shutil.rmtree(layout.job_dir / layout.host, ignore_errors=True)

    def upload(self, driver: "Driver", ending: Ending) -> dict[str, Any]:
        if ending.status == "Completed":
            self._sync_outputs(driver, continuous_only=False)
            driver.say(f"Uploaded {len(driver.spec['ProcessingOutputs'])} output(s)")
        progress = driver.progress
        hosts_done = progress.get("hosts_done", {})
        exit_message = next((h.get("failure_reason") for h in hosts_done.values() if h.get("failure_reason")), None)
        return {"ExitMessage": exit_message} if exit_message else {}
