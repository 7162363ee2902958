"""Endpoints (SageMaker CreateEndpoint, UpdateEndpoint ...): create one from a config,
update it to another under a deployment policy, change weights and capacities, watch
its history, and delete it. The hosting loop does the work; these record the request.

>>> serving.create_endpoint(endpoint_name="churn", endpoint_config_name="churn-v1")   # doctest: +SKIP
{'EndpointArn': 'arn:groundfog:serving:local:000000000000:endpoint/churn'}
>>> serving.wait_for_endpoint(endpoint_name="churn")["EndpointStatus"]                 # doctest: +SKIP
'InService'
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError
from groundfog.core.leases import lease_lost
from groundfog.core.names import validate_name
from groundfog.core.paging import list_named, with_token
from groundfog.core.service import operation
from groundfog.core.times import utc_datetime
from groundfog.registry.validation import parse_flag, parse_tags, shown
from groundfog.serving import deployment
from groundfog.serving.base import MOVING, ServingBase, endpoint_arn
from groundfog.serving.fleets import describe_variants, fleet_capacity, new_fleet, size_fraction
from groundfog.serving.hosting import STALE_SECONDS
from groundfog.serving.model_files import container_of
from groundfog.serving.records import append_history, load, save
from groundfog.serving.requests import parse_deployment_config, parse_desired
from groundfog.serving.tables import endpoints, history

STATUSES = ("OutOfService", "Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "Failed",
            "UpdateRollbackFailed")  # fmt: skip
_RETRIES = 20


class EndpointOperations(ServingBase):
    @operation
    def create_endpoint(
        self,
        endpoint_name: str,
        endpoint_config_name: str,
        deployment_config: dict[str, Any] | None = None,
        tags: list[dict[str, Any]] | None = None,
    ) -> dict[str, str]:
        """Create an endpoint (CreateEndpoint): ``Creating`` until every instance serves."""
        name = validate_name(endpoint_name, "EndpointName")
        config = self.describe_endpoint_config(endpoint_config_name=endpoint_config_name)
        policy = parse_deployment_config(deployment_config)
        self._check_alarms(policy)
        spec: dict[str, Any] = {"DeploymentConfig": policy} if policy else {}
        tag_list = parse_tags(tags)
        if tag_list:
            spec["Tags"] = tag_list
        now = self.clock.time()
        fleets = [new_fleet("f1", config["EndpointConfigName"], config, 1.0)]
        try:
            with self.state.write() as conn:
                conn.execute(endpoints.insert().values(
                    name=name, arn=endpoint_arn(name), config_name=config["EndpointConfigName"], status="Creating",
                    spec=spec, fleets=fleets, deployment=None, generation=0, created_at=now, modified_at=now,
                ))  # fmt: skip
                append_history(conn, name, now, "Creating", f"creating endpoint on {config['EndpointConfigName']}")
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"an endpoint named {name!r} already exists", field="EndpointName") from None
        self.announce({"name": name, "status": "Creating", "config_name": config["EndpointConfigName"]}, "", [])
        self.ensure_hosted(name)
        return {"EndpointArn": endpoint_arn(name)}

    def _check_alarms(self, policy: dict[str, Any] | None) -> None:
        names = [a["AlarmName"] for a in ((policy or {}).get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
        if not names:
            return
        known = {a.alarm_name for a in self.metrics.describe_alarms(alarm_names=names)}
        for i, alarm in enumerate(names):
            if alarm not in known:
                raise ValidationError(f"DeploymentConfig.AutoRollbackConfiguration.Alarms[{i}]: no alarm named "
                                      f"{alarm!r}; create it first (PutMetricAlarm)",
                                      field=f"DeploymentConfig.AutoRollbackConfiguration.Alarms[{i}].AlarmName")  # fmt: skip

    @operation
    def describe_endpoint(self, endpoint_name: str) -> dict[str, Any]:
        """The endpoint as DescribeEndpoint shows it; during a deployment the new fleet is
        in ``PendingDeploymentSummary`` and the traffic split in ``DeploymentProgress``."""
        name = validate_name(endpoint_name, "EndpointName")
        with self.state.read() as conn:
            doc = load(conn, name)
        blue = doc["fleets"][0]
        images = self._images(doc["fleets"])
        out: dict[str, Any] = {
            "EndpointName": name, "EndpointArn": doc["arn"], "EndpointConfigName": doc["config_name"],
            "ProductionVariants": describe_variants(blue, images), "EndpointStatus": doc["status"],
            "CreationTime": utc_datetime(doc["created_at"]), "LastModifiedTime": utc_datetime(doc["modified_at"]),
        }  # fmt: skip
        if blue["shadows"]:
            out["ShadowProductionVariants"] = describe_variants(blue, images, "shadows")
        capture = blue.get("capture")
        if capture:
            out["DataCaptureConfig"] = {"EnableCapture": True, "CaptureStatus": "Started",
                                        "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
                                        "DestinationS3Uri": capture["DestinationS3Uri"]}  # fmt: skip
        if doc["failure_reason"]:
            out["FailureReason"] = doc["failure_reason"]
        if doc["last_deployment_config"]:
            out["LastDeploymentConfig"] = doc["last_deployment_config"]
        pending = doc["deployment"]
        if pending:
            green = next(f for f in doc["fleets"] if f["id"] == pending["green"])
            out["PendingDeploymentSummary"] = {"EndpointConfigName": pending["config"],
                                               "ProductionVariants": describe_variants(green, images),
                                               "StartTime": utc_datetime(pending["started_at"])}  # fmt: skip
            out["DeploymentProgress"] = {"Type": pending["type"], "Phase": pending["phase"],
                                         "Step": pending["step"] + 1, "Steps": len(pending["shares"]),
                                         "NewFleetShare": green["share"]}  # fmt: skip
        return out

    def _images(self, fleets: list[dict[str, Any]]) -> dict[str, str]:
        images = {}
        for model in {v["model"] for f in fleets for v in f["variants"] + f["shadows"]}:
            try:
                described = self.registry.describe_model(model_name=model)
            except ResourceNotFound:
                continue  # deleted since: the variant still shows its model's name
            images[model] = container_of(described).get("Image", model)
        return images

    @operation
    def list_endpoints(
        self,
        name_contains: str | None = None,
        status_equals: str | None = None,
        max_results: int = 100,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Endpoints, newest first by default (ListEndpoints); ``NextToken`` pages on."""
        if status_equals is not None and status_equals not in STATUSES:
            raise ValidationError(f"StatusEquals must be one of {', '.join(STATUSES)}, got {shown(status_equals)}",
                                  field="StatusEquals")  # fmt: skip
        where = () if status_equals is None else (endpoints.c.status == status_equals,)
        with self.state.read() as conn:
            rows, token = list_named(conn, endpoints, name_contains=name_contains, max_results=max_results,
                                     sort_by=sort_by, sort_order=sort_order, next_token=next_token, where=where)  # fmt: skip
        return with_token({"Endpoints": [
            {"EndpointName": r.name, "EndpointArn": r.arn, "EndpointStatus": r.status,
             "CreationTime": utc_datetime(r.created_at), "LastModifiedTime": utc_datetime(r.modified_at)}
            for r in rows
        ]}, token)  # fmt: skip

    @operation
    def update_endpoint(
        self,
        endpoint_name: str,
        endpoint_config_name: str,
        deployment_config: dict[str, Any] | None = None,
        retain_all_variant_properties: bool = False,
        retain_deployment_config: bool = False,
    ) -> dict[str, str]:
        """Move an endpoint to another config (UpdateEndpoint): a new fleet starts, then
        traffic shifts to it as ``deployment_config`` says, rolling back on its alarms."""
        name = validate_name(endpoint_name, "EndpointName")
        config = self.describe_endpoint_config(endpoint_config_name=endpoint_config_name)
        retain = parse_flag(retain_all_variant_properties, "RetainAllVariantProperties")
        policy = parse_deployment_config(deployment_config)
        if parse_flag(retain_deployment_config, "RetainDeploymentConfig") and policy is None:
            with self.state.read() as conn:
                policy = load(conn, name)["last_deployment_config"]
        self._check_alarms(policy)

        def change(doc: dict[str, Any], now: float) -> list[tuple[str, str, dict[str, Any]]]:
            if doc["status"] != "InService":
                raise ValidationError(f"endpoint {name} is {doc['status']}; it can be updated only when InService",
                                      field="EndpointName")  # fmt: skip
            blue = doc["fleets"][0]
            green = new_fleet(f"f{uuid.uuid4().hex[:8]}", config["EndpointConfigName"], config, 0.0)
            if retain:
                current = {v["name"]: v for v in blue["variants"]}
                for variant in green["variants"]:
                    if variant["name"] in current:
                        old = current[variant["name"]]
                        variant.update(weight=old["weight"], desired_weight=old["desired_weight"],
                                       count=old["count"], desired_count=old["count"])  # fmt: skip
            _check_sizes(policy, green)
            doc["fleets"] = [blue, green]
            doc["deployment"] = deployment.plan(policy, green, now)
            doc["status"] = "Updating"
            doc["failure_reason"] = None
            kind = doc["deployment"]["type"]
            return [("UpdateStarted", f"updating to {config['EndpointConfigName']} ({kind}); starting the new fleet",
                     {"Type": kind, "Shares": doc["deployment"]["shares"]})]  # fmt: skip

        self._change(name, change)
        return {"EndpointArn": endpoint_arn(name)}

    @operation
    def update_endpoint_weights_and_capacities(
        self, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]
    ) -> dict[str, str]:
        """Change variants' weights and instance counts in place (UpdateEndpointWeightsAndCapacities)."""
        name = validate_name(endpoint_name, "EndpointName")

        def change(doc: dict[str, Any], now: float) -> list[tuple[str, str, dict[str, Any]]]:
            if doc["status"] != "InService":
                raise ValidationError(f"endpoint {name} is {doc['status']}; weights and capacities can change "
                                      "only when InService", field="EndpointName")  # fmt: skip
            fleet = doc["fleets"][0]
            variants = {v["name"]: v for v in fleet["variants"]}
            desired = parse_desired(desired_weights_and_capacities, set(variants))
            for entry in desired:
                variant = variants[entry["VariantName"]]
                if "DesiredWeight" in entry:
                    variant["desired_weight"] = entry["DesiredWeight"]
                if "DesiredInstanceCount" in entry:
                    count = entry["DesiredInstanceCount"]
                    if count == 0:
                        raise ValidationError(f"variant {variant['name']}: DesiredInstanceCount 0 is for serverless "
                                              "and scale-to-zero endpoints; give at least 1",
                                              field="DesiredWeightsAndCapacities")  # fmt: skip
                    variant["count"] = variant["desired_count"] = count
            doc["status"] = "Updating"
            return [("CapacityChanged", "; ".join(
                f"{e['VariantName']}: " + ", ".join(f"{k[7:]} {v}" for k, v in e.items() if k != "VariantName")
                for e in desired), {"Desired": desired})]  # fmt: skip

        self._change(name, change)
        return {"EndpointArn": endpoint_arn(name)}

    def _change(self, name: str, change: Any) -> dict[str, Any]:
        """Apply ``change(doc, now)`` to the endpoint with optimistic retries."""
        for _ in range(_RETRIES):
            with self.state.read() as conn:
                doc = load(conn, name)
            old_status = doc["status"]
            now = self.clock.time()
            steps = change(doc, now)
            with self.state.write() as conn:
                if not save(conn, doc, now):
                    continue
                for stage, message, detail in steps:
                    append_history(conn, name, now, stage, message, detail)
            self.announce(doc, old_status, steps)
            self.ensure_hosted(name)
            self.host.wake()
            return doc
        raise ValidationError(f"endpoint {name} is changing too fast to update; try again", field="EndpointName")

    @operation
    def delete_endpoint(self, endpoint_name: str) -> None:
        """Delete an endpoint (DeleteEndpoint): its workers stop and it is gone."""
        name = validate_name(endpoint_name, "EndpointName")
        with self.state.read() as conn:
            doc = load(conn, name)
        now = self.clock.time()
        hosted_elsewhere = doc["owner"] not in (None, self.owner) and not lease_lost(
            doc["owner"], doc["heartbeat_at"], me=self.owner, now=now, stale_seconds=STALE_SECONDS)
        with self.state.write() as conn:
            # A new generation: a hosting tick that read the endpoint before cannot save it back.
            conn.execute(endpoints.update().where(endpoints.c.name == name).values(
                status="Deleting", modified_at=now, generation=endpoints.c.generation + 1))
            append_history(conn, name, now, "Deleting", "deleting endpoint")
        self.announce({**doc, "status": "Deleting"}, doc["status"], [])
        if hosted_elsewhere:
            return  # its host stops the workers and removes the row
        self.host.stop_endpoint_workers(name)
        self.finish_delete(name)
        self.router.forget(name)

    def finish_delete(self, name: str) -> None:
        with self.state.write() as conn:
            # Only while it is Deleting: the hosting loop may come to it late (it read the row
            # Deleting before this process finished the delete), when an endpoint of the same
            # name has been created since.
            gone = conn.execute(endpoints.delete().where(endpoints.c.name == name, endpoints.c.status == "Deleting"))
            if gone.rowcount:
                conn.execute(history.delete().where(history.c.endpoint == name))

    @operation
    def list_endpoint_history(self, endpoint_name: str) -> dict[str, Any]:
        """Every status change and traffic shift of an endpoint, oldest first (groundfog's
        deployment timeline; the console draws it)."""
        name = validate_name(endpoint_name, "EndpointName")
        with self.state.read() as conn:
            load(conn, name)
            rows = conn.execute(sa.select(history).where(history.c.endpoint == name).order_by(history.c.id)).all()
        return {"EndpointName": name, "History": [
            {"Time": utc_datetime(r.at), "Stage": r.stage, "Message": r.message, **({"Detail": r.detail} if r.detail else {})}
            for r in rows
        ]}  # fmt: skip

    @operation
    def wait_for_endpoint(self, endpoint_name: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the endpoint is no longer Creating, Updating or RollingBack; its
        description. (``timeout`` in seconds; the HTTP API waits 60 s at most per call.)"""
        name = validate_name(endpoint_name, "EndpointName")
        self.ensure_hosted(name)
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            described = self.describe_endpoint(endpoint_name=name)
            if described["EndpointStatus"] not in MOVING:
                return described
            if deadline is not None and time.monotonic() >= deadline:
                return described
            time.sleep(0.02)


def _check_sizes(policy: dict[str, Any] | None, green: dict[str, Any]) -> None:
    """SageMaker's bounds: a canary and a linear step take at most half the new fleet."""
    routing = ((policy or {}).get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration") or {}
    for key in ("CanarySize", "LinearStepSize"):
        if key in routing and size_fraction(routing[key], fleet_capacity(green)) > 0.5:
            raise ValidationError(
                f"DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.{key} is "
                f"{routing[key]['Value']} {routing[key]['Type'].lower().replace('_', ' ')}, more than half of the new "
                f"fleet's {fleet_capacity(green)} instance(s); give at most 50%",
                field=f"DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.{key}",
            )  # fmt: skip
