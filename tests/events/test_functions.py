"""Functions run an importable handler as ``handler(event, context)``, like Lambda."""

from __future__ import annotations

import textwrap

import pytest

from groundfog.core.errors import AlreadyExists, ResourceNotFound, ValidationError
from groundfog.events import FunctionError


def test_a_handler_from_a_code_directory_is_invoked_with_a_lambda_context(events, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "gf_fn_greeter.py").write_text(textwrap.dedent("""
        def handler(event, context):
            return {"hello": event["name"], "fn": context.function_name, "arn": context.invoked_function_arn,
                    "request": context.aws_request_id, "ms": context.get_remaining_time_in_millis()}
    """))
    fn = events.create_function("greeter", handler="gf_fn_greeter.handler", code_path=str(code))

    result = events.invoke("greeter", {"name": "ada"})

    assert result["hello"] == "ada" and result["fn"] == "greeter" and result["arn"] == fn.function_arn
    assert result["request"] and 0 < result["ms"] <= 3000
    assert events.get_function(fn.function_arn).handler == "gf_fn_greeter.handler"


def test_a_handler_that_cannot_be_imported_is_refused_by_name(events):
    with pytest.raises(ValidationError, match="'gf_no_such_module:handler' cannot be imported"):
        events.create_function("f", handler="gf_no_such_module:handler")
    with pytest.raises(ValidationError, match="'gf_event_handlers:nope'"):
        events.create_function("f", handler="gf_event_handlers:nope")
    with pytest.raises(ValidationError, match="must be 'package.module:function'"):
        events.create_function("f", handler="nodots")
    assert events.list_functions() == []


def test_a_code_path_that_cannot_be_a_path_is_a_validation_error(events):
    # Found by tests/api/test_api_fuzz.py: "~nosuchuser" and NUL were 500s.
    for code_path in ("~gf-no-such-user/code", "/tmp/a\x00b"):
        with pytest.raises(ValidationError) as raised:
            events.create_function("f", handler="operator:eq", code_path=code_path)
        assert raised.value.field == "CodePath"
    assert events.list_functions() == []


def test_a_raising_handler_is_a_function_error(events):
    events.create_function("bad", handler="gf_event_handlers:fail")
    with pytest.raises(FunctionError, match="RuntimeError: target failed on purpose") as err:
        events.invoke("bad", {})
    assert err.value.details["errorType"] == "RuntimeError"


def test_functions_are_listed_and_deleted(events):
    events.create_function("a", handler="gf_event_handlers:record", description="first")
    events.create_function("b", handler="gf_event_handlers:record")
    with pytest.raises(AlreadyExists):
        events.create_function("a", handler="gf_event_handlers:record")
    assert [f.function_name for f in events.list_functions()] == ["a", "b"]
    events.delete_function("a")
    with pytest.raises(ResourceNotFound, match="Function not found"):
        events.get_function("a")
    with pytest.raises(ValidationError, match="FunctionName"):
        events.create_function("bad name", handler="gf_event_handlers:record")


def _slow_function(events, tmp_path, name: str, timeout: float) -> str:
    code = tmp_path / f"code_{name}"
    code.mkdir()
    (code / f"gf_fn_{name}.py").write_text(textwrap.dedent("""
        import time

        def handler(event, context):
            time.sleep(event["seconds"])
            return {"slept": event["seconds"], "left_ms": context.get_remaining_time_in_millis()}
    """))
    return events.create_function(name, handler=f"gf_fn_{name}:handler", code_path=str(code), timeout=timeout).function_arn


def test_an_invocation_past_the_functions_timeout_is_a_function_error(events, tmp_path):
    import time

    _slow_function(events, tmp_path, "sleeper", timeout=1)
    assert events.get_function("sleeper").timeout == 1.0
    assert events.invoke("sleeper", {"seconds": 0.1})["left_ms"] <= 1000
    started = time.monotonic()
    with pytest.raises(FunctionError, match="Task timed out after 1.00 seconds"):
        events.invoke("sleeper", {"seconds": 3})
    assert time.monotonic() - started < 2.5


def test_the_timeout_is_lambdas_default_and_range(events, tmp_path):
    fn = events.create_function("quick", handler="gf_event_handlers:record")
    assert fn.timeout == 3.0
    for bad in (0, 901, "soon", True):
        with pytest.raises(ValidationError, match="Timeout"):
            events.create_function("bad", handler="gf_event_handlers:record", timeout=bad)
