"""How a topic notification reaches each kind of subscriber: http(s), file, function.

The HTTP body is SNS's JSON envelope (``Type: Notification``, ``MessageId``,
``TopicArn``, ``Subject``, ``Message``, ``Timestamp``, ``MessageAttributes``), or the
bare message with ``RawMessageDelivery``; SNS's headers come with it. Messages are not
signed locally (no ``Signature``/``SigningCertURL``), and subscriptions need no
confirmation, so no ``SubscriptionConfirmation`` request is ever sent.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx

HTTP_TIMEOUT_SECONDS = 15.0


def envelope(notification: dict[str, Any]) -> dict[str, Any]:
    """SNS's HTTP/file notification document."""
    body: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": notification["MessageId"],
        "TopicArn": notification["TopicArn"],
    }
    if notification.get("Subject") is not None:
        body["Subject"] = notification["Subject"]
    body["Message"] = notification["Message"]
    body["Timestamp"] = notification["Timestamp"]
    attrs = notification.get("MessageAttributes") or {}
    if attrs:
        body["MessageAttributes"] = {
            name: {"Type": a["DataType"], "Value": a.get("StringValue", a.get("BinaryValue"))}
            for name, a in attrs.items()
        }
    return body


def lambda_event(notification: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """What a function subscribed to a topic receives: SNS's Lambda event, one record."""
    sns = envelope(notification)
    sns.setdefault("Subject", None)
    sns.setdefault("MessageAttributes", {})
    sns.update({"SignatureVersion": "1", "Signature": "", "SigningCertUrl": "", "UnsubscribeUrl": ""})
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": subscription_arn, "Sns": sns}]}


class HttpSink:
    """One shared connection pool for every http(s) subscription."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def post(self, url: str, notification: dict[str, Any], subscription_arn: str, *, raw: bool) -> None:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": notification["MessageId"],
            "x-amz-sns-topic-arn": notification["TopicArn"],
            "x-amz-sns-subscription-arn": subscription_arn,
            "User-Agent": "groundfog-sns",
        }
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
            body = notification["Message"]
        else:
            body = json.dumps(envelope(notification))
        response = self._client.post(url, content=body.encode("utf-8"), headers=headers)
        if not response.is_success:  # SNS retries anything but a 2xx
            raise RuntimeError(f"HTTP {response.status_code} from {url}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class FileSink:
    """Appends one JSON document per line; writes are serialised within the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def append(self, path: str, notification: dict[str, Any], *, raw: bool) -> None:
        if raw:
            try:  # a JSON message stays itself, made single-line; other text becomes a JSON string
                line = json.dumps(json.loads(notification["Message"]))
            except ValueError:
                line = json.dumps(notification["Message"])
        else:
            line = json.dumps(envelope(notification))
        target = Path(path)
        with self._lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
