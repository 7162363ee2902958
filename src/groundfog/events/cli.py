"""``groundfog events ...``: EventBridge rules, targets and events, functions, archives.

Option names follow the AWS CLI (``aws events put-rule --name ... --event-pattern ...``);
JSON options take the JSON itself or ``file://path``.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from groundfog.cli.common import JsonOption, command, output, parse_json_option, platform

app = typer.Typer(help="Event buses, rules, targets, functions (EventBridge).", no_args_is_help=True)

Bus = Annotated[str, typer.Option("--event-bus-name", help="Event bus name or ARN.")]
RuleName = Annotated[str, typer.Option("--name", help="Rule name.")]
RuleOpt = Annotated[str, typer.Option("--rule", help="Rule name.")]

RULE_COLUMNS = ["Name", "State", "EventPattern", "ScheduleExpression", "EventBusName"]


@app.command("create-event-bus")
@command
def create_event_bus(
    name: Annotated[str, typer.Option("--name")],
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a custom event bus."""
    output(platform().events.create_event_bus(name=name, description=description), as_json=as_json)


@app.command("list-event-buses")
@command
def list_event_buses(as_json: JsonOption = False) -> None:
    """List event buses."""
    output(platform().events.list_event_buses(), as_json=as_json, columns=["Name", "Arn", "Description"])


@app.command("delete-event-bus")
@command
def delete_event_bus(name: Annotated[str, typer.Option("--name")], as_json: JsonOption = False) -> None:
    """Delete a custom event bus (its rules first)."""
    output(platform().events.delete_event_bus(name=name), as_json=as_json)


@app.command("put-rule")
@command
def put_rule(
    name: RuleName,
    event_pattern: Annotated[Optional[str], typer.Option("--event-pattern", help="Event pattern JSON.")] = None,
    schedule_expression: Annotated[
        Optional[str], typer.Option("--schedule-expression", help="rate(...) or cron(...).")
    ] = None,
    state: Annotated[str, typer.Option("--state", help="ENABLED or DISABLED.")] = "ENABLED",
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    event_bus_name: Bus = "default",
    as_json: JsonOption = False,
) -> None:
    """Create or update a rule with an event pattern or a schedule."""
    pattern = parse_json_option(event_pattern, "--event-pattern")
    result = platform().events.put_rule(
        name=name, event_pattern=pattern, schedule_expression=schedule_expression, state=state,
        description=description, event_bus_name=event_bus_name,
    )
    output(result, as_json=as_json)


@app.command("list-rules")
@command
def list_rules(
    name_prefix: Annotated[Optional[str], typer.Option("--name-prefix")] = None,
    event_bus_name: Bus = "default",
    as_json: JsonOption = False,
) -> None:
    """List the rules of a bus."""
    rules = platform().events.list_rules(name_prefix=name_prefix, event_bus_name=event_bus_name)
    output(rules, as_json=as_json, columns=RULE_COLUMNS)


@app.command("describe-rule")
@command
def describe_rule(name: RuleName, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """Show one rule."""
    output(platform().events.describe_rule(name=name, event_bus_name=event_bus_name), as_json=as_json)


@app.command("delete-rule")
@command
def delete_rule(name: RuleName, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """Delete a rule (remove its targets first)."""
    output(platform().events.delete_rule(name=name, event_bus_name=event_bus_name), as_json=as_json)


@app.command("enable-rule")
@command
def enable_rule(name: RuleName, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """Enable a rule."""
    output(platform().events.enable_rule(name=name, event_bus_name=event_bus_name), as_json=as_json)


@app.command("disable-rule")
@command
def disable_rule(name: RuleName, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """Disable a rule."""
    output(platform().events.disable_rule(name=name, event_bus_name=event_bus_name), as_json=as_json)


@app.command("put-targets")
@command
def put_targets(
    rule: RuleOpt,
    targets: Annotated[str, typer.Option("--targets", help='JSON list: [{"Id": ..., "Arn": ...}]')],
    event_bus_name: Bus = "default",
    as_json: JsonOption = False,
) -> None:
    """Add or replace targets of a rule."""
    parsed = parse_json_option(targets, "--targets")
    output(platform().events.put_targets(rule=rule, targets=parsed, event_bus_name=event_bus_name), as_json=as_json)


@app.command("remove-targets")
@command
def remove_targets(
    rule: RuleOpt,
    ids: Annotated[list[str], typer.Option("--ids", help="Target Id (repeat for several).")],
    event_bus_name: Bus = "default",
    as_json: JsonOption = False,
) -> None:
    """Remove targets from a rule."""
    output(platform().events.remove_targets(rule=rule, ids=ids, event_bus_name=event_bus_name), as_json=as_json)


def _list_targets(rule: str, event_bus_name: str, as_json: bool) -> None:
    targets = platform().events.list_targets_by_rule(rule=rule, event_bus_name=event_bus_name)
    output(targets, as_json=as_json, columns=["Id", "Arn", "Input", "InputPath"])


@app.command("list-targets")
@command
def list_targets(rule: RuleOpt, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """List the targets of a rule."""
    _list_targets(rule, event_bus_name, as_json)


@app.command("list-targets-by-rule", hidden=True)
@command
def list_targets_by_rule(rule: RuleOpt, event_bus_name: Bus = "default", as_json: JsonOption = False) -> None:
    """List the targets of a rule (AWS CLI name)."""
    _list_targets(rule, event_bus_name, as_json)


@app.command("put-events")
@command
def put_events(
    entries: Annotated[str, typer.Option("--entries", help="JSON list of PutEvents entries.")],
    as_json: JsonOption = False,
) -> None:
    """Put events on buses; delivery to targets happens before the command exits."""
    events = platform().events
    result = events.put_events(entries=parse_json_option(entries, "--entries"))
    output(result, as_json=as_json)
    if result.get("FailedEntryCount"):
        raise typer.Exit(1)


@app.command("test-event-pattern")
@command
def test_event_pattern(
    event_pattern: Annotated[str, typer.Option("--event-pattern", help="Event pattern JSON.")],
    event: Annotated[str, typer.Option("--event", help="A full event, JSON.")],
    as_json: JsonOption = False,
) -> None:
    """Whether an event matches a pattern: prints {"Result": true|false}."""
    result = platform().events.test_event_pattern(
        event_pattern=parse_json_option(event_pattern, "--event-pattern"), event=parse_json_option(event, "--event")
    )
    output({"Result": result}, as_json=as_json)


test_event_pattern.__test__ = False  # type: ignore[attr-defined]


@app.command("create-function")
@command
def create_function(
    name: Annotated[str, typer.Option("--name", help="Function name.")],
    handler: Annotated[str, typer.Option("--handler", help="package.module:function")],
    code_path: Annotated[Optional[str], typer.Option("--code-path", help="Directory holding the handler.")] = None,
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds an invocation may take (1-900).")] = 3.0,
    as_json: JsonOption = False,
) -> None:
    """Define a function from an importable handler."""
    fn = platform().events.create_function(name=name, handler=handler, code_path=code_path, description=description,
                                           timeout=timeout)  # fmt: skip
    output(fn, as_json=as_json)


@app.command("list-functions")
@command
def list_functions(as_json: JsonOption = False) -> None:
    """List functions."""
    output(platform().events.list_functions(), as_json=as_json, columns=["FunctionName", "Handler", "FunctionArn"])


@app.command("delete-function")
@command
def delete_function(name: Annotated[str, typer.Option("--name")], as_json: JsonOption = False) -> None:
    """Delete a function."""
    output(platform().events.delete_function(name=name), as_json=as_json)


@app.command("invoke")
@command
def invoke(
    name: Annotated[str, typer.Option("--name", help="Function name or ARN.")],
    payload: Annotated[Optional[str], typer.Option("--payload", help="Event JSON.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a function now and print what it returned."""
    output(platform().events.invoke(name=name, payload=parse_json_option(payload, "--payload")), as_json=as_json)


@app.command("list-dead-letters")
@command
def list_dead_letters(
    target_arn: Annotated[Optional[str], typer.Option("--target-arn")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Deliveries that ran out of retries."""
    letters = platform().events.list_dead_letters(target_arn=target_arn, limit=limit)
    output(letters, as_json=as_json, columns=["Id", "TargetArn", "Attempts", "ErrorMessage", "FailedAt"])


@app.command("create-archive")
@command
def create_archive(
    name: Annotated[str, typer.Option("--archive-name", "--name")],
    event_source_arn: Annotated[str, typer.Option("--event-source-arn", help="The bus ARN.")],
    event_pattern: Annotated[Optional[str], typer.Option("--event-pattern")] = None,
    retention_days: Annotated[int, typer.Option("--retention-days")] = 0,
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    as_json: JsonOption = False,
) -> None:
    """Archive a bus's events (optionally only those matching a pattern)."""
    archive = platform().events.create_archive(
        name=name, event_source_arn=event_source_arn, event_pattern=parse_json_option(event_pattern, "--event-pattern"),
        retention_days=retention_days, description=description,
    )
    output(archive, as_json=as_json)


@app.command("list-archives")
@command
def list_archives(as_json: JsonOption = False) -> None:
    """List archives."""
    output(platform().events.list_archives(), as_json=as_json,
           columns=["ArchiveName", "EventSourceArn", "EventCount", "RetentionDays"])


@app.command("start-replay")
@command
def start_replay(
    name: Annotated[str, typer.Option("--replay-name", "--name")],
    event_source_arn: Annotated[str, typer.Option("--event-source-arn", help="The archive ARN.")],
    event_start_time: Annotated[str, typer.Option("--event-start-time", help="ISO 8601 or epoch seconds.")],
    event_end_time: Annotated[str, typer.Option("--event-end-time", help="ISO 8601 or epoch seconds.")],
    destination: Annotated[str, typer.Option("--destination", help='JSON: {"Arn": bus ARN, "FilterArns": [...]}')],
    as_json: JsonOption = False,
) -> None:
    """Replay archived events onto their bus."""
    replay = platform().events.start_replay(
        name=name, event_source_arn=event_source_arn, event_start_time=_time(event_start_time),
        event_end_time=_time(event_end_time), destination=parse_json_option(destination, "--destination"),
    )
    output(replay, as_json=as_json)


def _time(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value
