"""``groundfog topics ...``: SNS-like topics and subscriptions.

Topics are named by name or ARN; ``--attributes`` and ``--message-attributes`` take
JSON or ``file://path``.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from groundfog.cli.common import JsonOption, command, output, parse_json_option, platform

app = typer.Typer(help="Topics and subscriptions (SNS).", no_args_is_help=True)

TopicArg = Annotated[str, typer.Argument(help="Topic name or ARN.")]
SUBSCRIPTION_COLUMNS = ["SubscriptionArn", "Protocol", "Endpoint", "TopicArn"]


@app.command("create")
@command
def create(name: Annotated[str, typer.Argument(help="Topic name.")], as_json: JsonOption = False) -> None:
    """Create a topic (creating an existing one returns it)."""
    output(platform().topics.create_topic(name=name), as_json=as_json)


@app.command("list")
@command
def list_(as_json: JsonOption = False) -> None:
    """List topics."""
    output(platform().topics.list_topics(), as_json=as_json, columns=["Name", "TopicArn"])


@app.command("delete")
@command
def delete(topic: TopicArg, as_json: JsonOption = False) -> None:
    """Delete a topic and its subscriptions."""
    output(platform().topics.delete_topic(topic_arn=topic), as_json=as_json)


@app.command("subscribe")
@command
def subscribe(
    topic: TopicArg,
    protocol: Annotated[str, typer.Option("--protocol", help="http, https, file or function.")],
    endpoint: Annotated[str, typer.Option("--endpoint", help="URL, absolute path, or function name/ARN.")],
    attributes: Annotated[
        Optional[str], typer.Option("--attributes", help='JSON: {"FilterPolicy": ..., "RawMessageDelivery": "true"}')
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe an endpoint to a topic (active at once, no confirmation)."""
    sub = platform().topics.subscribe(
        topic_arn=topic, protocol=protocol, endpoint=endpoint, attributes=parse_json_option(attributes, "--attributes")
    )
    output(sub, as_json=as_json)


@app.command("unsubscribe")
@command
def unsubscribe(
    subscription_arn: Annotated[str, typer.Argument(help="Subscription ARN.")], as_json: JsonOption = False
) -> None:
    """Remove a subscription."""
    output(platform().topics.unsubscribe(subscription_arn=subscription_arn), as_json=as_json)


@app.command("list-subscriptions")
@command
def list_subscriptions(
    topic: Annotated[Optional[str], typer.Option("--topic", help="Only this topic's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List subscriptions (of every topic, or of one)."""
    topics = platform().topics
    subs = topics.list_subscriptions_by_topic(topic_arn=topic) if topic else topics.list_subscriptions()
    output(subs, as_json=as_json, columns=SUBSCRIPTION_COLUMNS)


@app.command("publish")
@command
def publish(
    topic: TopicArg,
    message: Annotated[str, typer.Option("--message", help="The message text.")],
    subject: Annotated[Optional[str], typer.Option("--subject")] = None,
    message_attributes: Annotated[
        Optional[str], typer.Option("--message-attributes", help='JSON: {"name": "value"} or SNS form.')
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a message; delivery happens before the command exits."""
    result = platform().topics.publish(
        topic_arn=topic, message=message, subject=subject,
        message_attributes=parse_json_option(message_attributes, "--message-attributes"),
    )
    output(result, as_json=as_json)
