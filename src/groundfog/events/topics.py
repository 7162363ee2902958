"""SNS-like topics: publish once, deliver to every subscription whose filter policy matches.

Protocols: ``http``/``https`` (POST of SNS's JSON envelope), ``file`` (JSON lines
appended to a path), ``function`` (a function ARN; ``lambda`` is accepted as an
alias). Subscriptions are confirmed at once: locally there is no
SubscriptionConfirmation handshake. A publish is durable when it returns (a row in the
events outbox, in the same transaction) and is delivered at least once, with the same
retries and dead letters as EventBridge targets.

>>> topic = topics.create_topic("alerts")                                          # doctest: +SKIP
>>> topics.subscribe(topic.topic_arn, "file", "/tmp/alerts.jsonl")                 # doctest: +SKIP
>>> topics.publish(topic.topic_arn, "disk full", subject="ops")                    # doctest: +SKIP
{'MessageId': '...'}
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa

from groundfog.core.errors import Conflict, PayloadTooLarge, ResourceNotFound, ValidationError
from groundfog.core.names import TOPIC_NAME, arn, name_from_arn, validate_name
from groundfog.core.paths import user_path
from groundfog.core.service import Service, operation
from groundfog.events import tables as t
from groundfog.events.delivery import Outcome, attempt, outbox_row
from groundfog.events.filter_policy import FilterPolicy
from groundfog.events.models import Subscription, Topic
from groundfog.events.routing import topic_arn as arn_of_topic
from groundfog.events.sinks import FileSink, HttpSink, lambda_event

PROTOCOLS = ("http", "https", "file", "function")
ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
ATTRIBUTE_TYPES = ("String", "Number", "Binary", "String.Array")
MAX_MESSAGE_BYTES = 256 * 1024


def _topic_model(name: str) -> Topic:
    return Topic(topic_arn=arn_of_topic(name), name=name)


def _subscription_model(row: Any) -> Subscription:
    return Subscription(subscription_arn=row.arn, topic_arn=arn_of_topic(row.topic), protocol=row.protocol,
                        endpoint=row.endpoint, attributes=dict(row.attributes or {}))


class TopicsService(Service):
    """Topics and subscriptions; the ``EventsService`` owns one and delivers for it."""

    name = "topics"

    def __init__(self, *, config: Any, state: Any, clock: Any, events: Any) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self._events = events
        self._http = HttpSink()
        self._files = FileSink()

    # ---- topics --------------------------------------------------------------------

    @operation
    def create_topic(self, name: str) -> Topic:
        """Create a topic; creating an existing one returns it (idempotent, as in SNS)."""
        validate_name(name, "Name", pattern=TOPIC_NAME, max_length=256)
        with self.state.write() as conn:
            if conn.execute(sa.select(t.topics.c.name).where(t.topics.c.name == name)).first() is None:
                conn.execute(t.topics.insert().values(name=name, created_at=self.clock.time()))
                t.bump_config(conn)
        return _topic_model(name)

    @operation
    def list_topics(self) -> list[Topic]:
        with self.state.read() as conn:
            return [_topic_model(n) for n in conn.execute(sa.select(t.topics.c.name).order_by(t.topics.c.name)).scalars()]

    @operation
    def delete_topic(self, topic_arn: str) -> None:
        """Delete a topic and its subscriptions; messages not yet delivered are dropped."""
        name = name_from_arn(topic_arn)
        with self.state.write() as conn:
            if not conn.execute(t.topics.delete().where(t.topics.c.name == name)).rowcount:
                raise ResourceNotFound(f"Topic does not exist: {topic_arn}", field="TopicArn")
            conn.execute(t.subscriptions.delete().where(t.subscriptions.c.topic == name))
            t.bump_config(conn)

    # ---- subscriptions -------------------------------------------------------------

    @operation
    def subscribe(self, topic_arn: str, protocol: str, endpoint: str, attributes: dict | None = None) -> Subscription:
        """Subscribe an endpoint; active at once (no confirmation step locally).

        ``attributes``: ``FilterPolicy`` (JSON text or an object), ``FilterPolicyScope``
        (``MessageAttributes``, the default, or ``MessageBody``), ``RawMessageDelivery``.
        Subscribing the same endpoint again returns the existing subscription.
        """
        topic = name_from_arn(topic_arn)
        protocol = "function" if protocol == "lambda" else protocol
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"Invalid parameter: Protocol {protocol!r}; supported here: {', '.join(PROTOCOLS)}", field="Protocol"
            )
        endpoint = self._check_endpoint(protocol, endpoint)
        attrs = self._check_attributes(attributes or {})
        with self.state.write() as conn:
            self._require_topic(conn, topic)
            s = t.subscriptions.c
            same = conn.execute(sa.select(t.subscriptions).where(
                s.topic == topic, s.protocol == protocol, s.endpoint == endpoint)).first()
            if same is not None:
                if dict(same.attributes or {}) != attrs:
                    raise Conflict(
                        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                        field="Attributes",
                    )
                return _subscription_model(same)
            sub_arn = arn("events", "subscription", f"{topic}/{uuid.uuid4()}")
            conn.execute(t.subscriptions.insert().values(
                arn=sub_arn, topic=topic, protocol=protocol, endpoint=endpoint, attributes=attrs,
                created_at=self.clock.time(),
            ))
            t.bump_config(conn)
            return _subscription_model(conn.execute(sa.select(t.subscriptions).where(s.arn == sub_arn)).one())

    @operation
    def unsubscribe(self, subscription_arn: str) -> None:
        with self.state.write() as conn:
            if not conn.execute(t.subscriptions.delete().where(t.subscriptions.c.arn == subscription_arn)).rowcount:
                raise ResourceNotFound(f"Subscription does not exist: {subscription_arn}", field="SubscriptionArn")
            t.bump_config(conn)

    @operation
    def set_subscription_attributes(self, subscription_arn: str, attribute_name: str, attribute_value: Any) -> None:
        with self.state.write() as conn:
            row = conn.execute(sa.select(t.subscriptions).where(t.subscriptions.c.arn == subscription_arn)).first()
            if row is None:
                raise ResourceNotFound(f"Subscription does not exist: {subscription_arn}", field="SubscriptionArn")
            attrs = self._check_attributes({**(row.attributes or {}), attribute_name: attribute_value})
            conn.execute(t.subscriptions.update().where(t.subscriptions.c.arn == subscription_arn)
                         .values(attributes=attrs))
            t.bump_config(conn)

    @operation
    def list_subscriptions(self) -> list[Subscription]:
        return self._subscriptions(sa.true())

    @operation
    def list_subscriptions_by_topic(self, topic_arn: str) -> list[Subscription]:
        name = name_from_arn(topic_arn)
        with self.state.read() as conn:
            self._require_topic(conn, name)
        return self._subscriptions(t.subscriptions.c.topic == name)

    # ---- publishing ----------------------------------------------------------------

    @operation
    def publish(
        self, topic_arn: str, message: str, subject: str | None = None, message_attributes: dict | None = None
    ) -> dict:
        """Publish a message; returns ``{"MessageId": ...}`` once it is durably queued.

        ``message_attributes`` take SNS's form, ``{"store": {"DataType": "String",
        "StringValue": "shop-1"}}``, or the shorthand ``{"store": "shop-1", "price": 12}``.
        """
        name = name_from_arn(topic_arn)
        notification = self._notification(name, message, subject, message_attributes)
        now = self.clock.time()
        with self.state.write() as conn:
            self._require_topic(conn, name)
            conn.execute(t.outbox.insert(), [self._publish_row(notification, now)])
        self._events.dispatcher.wake()
        return {"MessageId": notification["MessageId"]}

    def publish_row(self, topic: str, message: str, attributes: dict | None, now: float) -> dict[str, Any]:
        """An outbox row publishing ``message`` (for dead-letter topics), not yet inserted."""
        return self._publish_row(self._notification(topic, message, None, attributes), now)

    def _publish_row(self, notification: dict[str, Any], now: float) -> dict[str, Any]:
        meta = {"event_id": notification["MessageId"], "first_at": now}
        return outbox_row("publish", notification["TopicArn"], notification, meta, now=now)

    def _notification(self, topic: str, message: Any, subject: str | None, attributes: dict | None) -> dict:
        if not isinstance(message, str) or not message:
            raise ValidationError("Message must be a non-empty string", field="Message")
        if subject is not None and (not subject or len(subject) > 100 or not subject.isprintable()):
            raise ValidationError("Subject must be 1-100 printable characters", field="Subject")
        attrs = _message_attributes(attributes or {})
        size = len(message.encode()) + len(json.dumps(attrs).encode())
        if size > MAX_MESSAGE_BYTES:
            raise PayloadTooLarge(
                f"Message (with attributes) is {size} bytes; the maximum is {MAX_MESSAGE_BYTES}", field="Message"
            )
        stamp = datetime.fromtimestamp(self.clock.time(), timezone.utc).isoformat(timespec="milliseconds")
        return {"MessageId": str(uuid.uuid4()), "TopicArn": arn_of_topic(topic), "Subject": subject, "Message": message,
                "Timestamp": stamp.replace("+00:00", "Z"), "MessageAttributes": attrs}

    # ---- delivery (called by the dispatcher) ---------------------------------------

    def process_publish(self, row: Any, snapshot: Any) -> Outcome:
        """Fan a published message out to the topic's matching subscriptions."""
        outcome = Outcome()
        topic = name_from_arn(row.target)
        if topic not in snapshot.topics:
            return outcome  # deleted since
        note = row.payload
        for sub in snapshot.subscriptions_by_topic.get(topic, ()):
            if sub.policy is not None and not sub.policy.matches(note["Message"], note.get("MessageAttributes")):
                continue
            meta = {**row.meta, "rule_arn": row.target}
            failure = attempt(self._events.targets.invoke, sub.arn, note, meta, 0)
            if failure:
                outcome.failures.append(failure)
        return outcome

    def deliver(self, subscription_arn: str, notification: dict[str, Any]) -> None:
        """Invoker of ``subscription`` targets: one notification to one subscriber."""
        sub = self._events.dispatcher.snapshot.subscriptions_by_arn.get(subscription_arn)
        if sub is None:
            return  # unsubscribed since: nothing to deliver
        if sub.protocol in ("http", "https"):
            self._http.post(sub.endpoint, notification, sub.arn, raw=sub.raw)
        elif sub.protocol == "file":
            self._files.append(sub.endpoint, notification, raw=sub.raw)
        else:
            self._events.functions.invoke_arn(sub.endpoint, lambda_event(notification, sub.arn))

    def publish_from_target(self, target_arn: str, payload: Any) -> None:
        """Invoker of ``topic`` targets (rules, ``send``): publish the payload as the message."""
        message = payload if isinstance(payload, str) else json.dumps(payload)
        self.publish(target_arn, message)

    def topic_exists(self, target_arn: str) -> bool:
        with self.state.read() as conn:
            return conn.execute(sa.select(t.topics.c.name).where(
                t.topics.c.name == name_from_arn(target_arn))).first() is not None

    def subscription_exists(self, target_arn: str) -> bool:
        with self.state.read() as conn:
            return conn.execute(sa.select(t.subscriptions.c.arn).where(
                t.subscriptions.c.arn == target_arn)).first() is not None

    def shutdown(self) -> None:
        self._http.close()

    # ---- helpers -------------------------------------------------------------------

    def _subscriptions(self, where: Any) -> list[Subscription]:
        with self.state.read() as conn:
            rows = conn.execute(sa.select(t.subscriptions).where(where).order_by(t.subscriptions.c.created_at)).all()
        return [_subscription_model(r) for r in rows]

    @staticmethod
    def _require_topic(conn: sa.Connection, name: str) -> None:
        if conn.execute(sa.select(t.topics.c.name).where(t.topics.c.name == name)).first() is None:
            raise ResourceNotFound(f"Topic does not exist: {arn_of_topic(name)}", field="TopicArn")

    def _check_endpoint(self, protocol: str, endpoint: Any) -> str:
        if not isinstance(endpoint, str) or not endpoint:
            raise ValidationError("Endpoint must be a non-empty string", field="Endpoint")
        if protocol in ("http", "https"):
            url = urlparse(endpoint)
            if url.scheme != protocol or not url.netloc:
                raise ValidationError(
                    f"Invalid parameter: Endpoint {endpoint!r} must be a {protocol}:// URL", field="Endpoint"
                )
            return endpoint
        if protocol == "file":
            path = user_path(endpoint.removeprefix("file://"), "Endpoint")
            if not path.is_absolute():
                raise ValidationError(f"Endpoint {endpoint!r} must be an absolute path", field="Endpoint")
            return str(path)
        fn_arn = endpoint if endpoint.startswith("arn:") else arn("events", "function", endpoint)
        self._events.check_target(fn_arn, allowed_types=("function",))
        return fn_arn

    @staticmethod
    def _check_attributes(attributes: dict) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in attributes.items():
            if key not in ATTRIBUTES:
                raise ValidationError(
                    f"Invalid parameter: Attributes: unknown attribute {key!r}; supported: {', '.join(ATTRIBUTES)}",
                    field="Attributes",
                )
            if key == "RawMessageDelivery":
                text = str(value).lower()
                if text not in ("true", "false"):
                    raise ValidationError("RawMessageDelivery must be true or false", field=key)
                out[key] = text
            elif key == "FilterPolicy":
                out[key] = value if isinstance(value, str) else json.dumps(value)
            else:
                out[key] = str(value)
        if "FilterPolicy" in out:
            FilterPolicy(out["FilterPolicy"], out.get("FilterPolicyScope", "MessageAttributes"))
        elif out.get("FilterPolicyScope", "MessageAttributes") not in ("MessageAttributes", "MessageBody"):
            raise ValidationError("FilterPolicyScope must be MessageAttributes or MessageBody", field="FilterPolicyScope")
        return out


def _message_attributes(attributes: dict) -> dict[str, dict[str, str]]:
    if len(attributes) > 10:
        raise ValidationError(f"MessageAttributes: at most 10 are allowed, got {len(attributes)}", field="MessageAttributes")
    out: dict[str, dict[str, str]] = {}
    for name, value in attributes.items():
        where = f"MessageAttributes.{name}"
        if isinstance(value, dict):
            kind = value.get("DataType")
            text = value.get("StringValue", value.get("BinaryValue"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float, list)):
            raise ValidationError(f"{where} must be a string, number, list or an SNS attribute object", field=where)
        elif isinstance(value, list):
            kind, text = "String.Array", json.dumps(value)
        else:
            kind = "String" if isinstance(value, str) else "Number"
            text = str(value)
        if not isinstance(kind, str) or kind.split(".")[0] not in ("String", "Number", "Binary"):
            raise ValidationError(f"{where}.DataType must be one of {', '.join(ATTRIBUTE_TYPES)}", field=where)
        if not isinstance(text, str):
            raise ValidationError(f"{where} needs a StringValue", field=where)
        if kind.startswith("Number"):
            try:
                float(text)
            except ValueError:
                raise ValidationError(f"{where}: {text!r} is not a number", field=where) from None
        key = "BinaryValue" if kind.startswith("Binary") else "StringValue"
        out[name] = {"DataType": kind, key: text}
    return out
