"""The SageMaker inference-handler contract: a user module's ``model_fn``, ``input_fn``,
``predict_fn``, ``output_fn`` or ``transform_fn``, with the framework's defaults for
whatever it leaves out.

    handler = load_handler("/models/churn", "sklearn", Path("/code/inference.py"))
    handler.invoke(b"1.0,2.0", "text/csv", "application/json", InvocationContext())
    # Response(body=b'[0]', content_type='application/json', custom_attributes=None)

The user's functions are called as SageMaker's toolkits call them:

- ``model_fn(model_dir)``, ``input_fn(request_body, request_content_type)``,
  ``predict_fn(input_data, model)``, ``output_fn(prediction, accept)``, or
  ``transform_fn(model, request_body, content_type, accept)`` instead of the last three
  (defining both is refused at load, as the toolkit does);
- each may take one more argument, the ``context`` (an ``InvocationContext``): the
  parameters are counted once, at load;
- ``request_body`` is ``str`` (UTF-8) for ``text/csv`` and ``application/json`` and
  ``bytes`` for every other type, as SageMaker's scikit-learn container passes it, so
  both ``json.loads(request_body)`` and ``StringIO(request_body)`` work unchanged;
- ``request_content_type`` is the bare media type (``text/csv``, without
  ``; charset=...``); ``accept`` is the Accept header, or the default answer type
  when the client sent none or ``*/*``;
- ``output_fn`` / ``transform_fn`` return ``bytes`` or ``str`` (answered as
  ``accept``) or a ``(body, content_type)`` pair.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from groundfog.serving.worker import codecs
from groundfog.serving.worker.defaults import FrameworkDefaults, ModelLoadError, defaults_for

DEFAULT_PROGRAM = "inference.py"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"

# The toolkit's arguments of each handler, without the optional trailing context.
_ARGUMENTS = {
    "model_fn": ("model_dir",),
    "input_fn": ("request_body", "request_content_type"),
    "predict_fn": ("input_data", "model"),
    "output_fn": ("prediction", "accept"),
    "transform_fn": ("model", "request_body", "content_type", "accept"),
}


class ProgramNotFound(ModelLoadError):
    """The inference script named by ``--program`` is not where it should be."""

    exit_code = 2


class InvocationContext:
    """What a handler that takes a ``context`` argument sees of its request.

    ``custom_attributes`` and ``inference_id`` are the request's
    ``X-Amzn-SageMaker-Custom-Attributes`` and ``-Inference-Id`` headers; setting
    ``response_custom_attributes`` returns a value to the caller. The MMS-style
    ``get_request_header`` / ``set_response_header`` of SageMaker's toolkits work too.
    """

    __slots__ = ("custom_attributes", "inference_id", "response_custom_attributes", "system_properties")

    def __init__(
        self,
        custom_attributes: str | None = None,
        inference_id: str | None = None,
        system_properties: dict[str, Any] | None = None,
    ) -> None:
        self.custom_attributes = custom_attributes
        self.inference_id = inference_id
        self.response_custom_attributes: str | None = None
        self.system_properties = system_properties or {}

    def get_request_header(self, idx: int, key: str) -> str | None:
        """A request header by name (``idx`` is the batch index; batches are always 1)."""
        name = key.lower()
        if name == CUSTOM_ATTRIBUTES:
            return self.custom_attributes
        if name == "x-amzn-sagemaker-inference-id":
            return self.inference_id
        return None

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        """Set a response header; only the custom-attributes header reaches the caller."""
        if key.lower() == CUSTOM_ATTRIBUTES:
            self.response_custom_attributes = value


@dataclass(frozen=True)
class Response:
    body: bytes
    content_type: str
    custom_attributes: str | None = None


def resolve_program(model_dir: str, code_dir: str | None, program: str | None) -> Path | None:
    """The inference script to import, or None to serve with the framework's defaults.

    ``program`` is looked up in ``code_dir``, else in ``<model_dir>/code`` (the PyTorch
    convention: ``model.tar.gz`` holding ``code/inference.py``); without ``program``,
    an ``inference.py`` found there is used, as SageMaker's toolkits do.
    """
    directory = Path(code_dir) if code_dir else Path(model_dir) / "code"
    if program is None:
        default = directory / DEFAULT_PROGRAM
        return default if default.is_file() else None
    path = directory / program
    if not path.is_file():
        raise ProgramNotFound(f"inference script {path} not found (SAGEMAKER_PROGRAM={program})")
    return path


def import_program(path: Path) -> ModuleType:
    """Import ``path`` as the module named by its stem, its directory first on sys.path
    so that it can import its siblings (and pickles can find its classes)."""
    directory = str(path.parent)
    if sys.path[:1] != [directory]:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"cannot import {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[path.stem]
        raise ModelLoadError(f"importing {path} raised {type(exc).__name__}: {exc}") from exc
    return module


def _takes_context(fn: Callable[..., Any], name: str, where: str) -> bool:
    """Whether ``fn`` wants the trailing context argument; refuses a signature that
    cannot take the toolkit's arguments."""
    expected = len(_ARGUMENTS[name])
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable: no introspection
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    if len(required) > expected + 1 or (len(positional) < expected and not variadic):
        signature = ", ".join(_ARGUMENTS[name])
        raise ModelLoadError(
            f"{name} in {where} takes {len(positional)} arguments; expected ({signature}[, context])"
        )
    return variadic or len(positional) > expected


def _bind(fn: Callable[..., Any], name: str, where: str) -> Callable[..., Any]:
    """``fn`` as a callable that always takes the context last, decided once at load."""
    if _takes_context(fn, name, where):
        return fn
    arity = len(_ARGUMENTS[name])
    if arity == 1:
        return lambda a, context: fn(a)
    if arity == 2:
        return lambda a, b, context: fn(a, b)
    return lambda a, b, c, d, context: fn(a, b, c, d)


class ModelHandler:
    """A loaded model and its handler chain: ``invoke`` answers one request."""

    def __init__(self, model: Any, framework: str, module: ModuleType | None, defaults: FrameworkDefaults) -> None:
        self.model = model
        self.framework = framework
        where = Path(module.__file__ or module.__name__).name if module else "defaults"
        user = {name: getattr(module, name) for name in _ARGUMENTS if module and callable(getattr(module, name, None))}
        self.user_functions = tuple(sorted(user))
        self._transform = _bind(user["transform_fn"], "transform_fn", where) if "transform_fn" in user else None
        self._input = _bind(user.get("input_fn", defaults.input_fn), "input_fn", where)
        self._predict = _bind(user.get("predict_fn", defaults.predict_fn), "predict_fn", where)
        self._output = _bind(user.get("output_fn", defaults.output_fn), "output_fn", where)
        # Only the default encoders can refuse an Accept: a user's output_fn sees it as sent.
        self._default_output = self._transform is None and "output_fn" not in user
        self._default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or None

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, context: InvocationContext
    ) -> Response:
        """Run the chain on one request; ``InvocationError`` for what the client can fix,
        anything else is the user's code or the model failing."""
        media = codecs.media_type(content_type)
        if self._default_output:
            answer = codecs.choose_accept(accept, media, self._default_accept)  # 406 before any work
        elif not accept or accept.strip() == codecs.ANY:
            answer = self._default_accept or (media if media in codecs.ENCODERS else codecs.JSON)
        else:
            answer = accept.strip()
        payload: bytes | str = codecs.as_text(body) if media in codecs.TEXT_TYPES else body
        if self._transform is not None:
            result = self._transform(self.model, payload, media, answer, context)
        else:
            data = self._input(payload, media, context)
            prediction = self._predict(data, self.model, context)
            result = self._output(prediction, answer, context)
        response_body, response_type = _response_parts(result, answer)
        return Response(response_body, response_type, context.response_custom_attributes)


def _response_parts(result: Any, accept: str) -> tuple[bytes, str]:
    content_type = accept.split(",")[0].strip()
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result[0], str(result[1])
    if isinstance(result, bytes):
        return result, content_type
    if isinstance(result, str):
        return result.encode(), content_type
    if isinstance(result, (bytearray, memoryview)):
        return bytes(result), content_type
    media = codecs.media_type(content_type)
    if media in codecs.ENCODERS:
        return codecs.encode(result, media), content_type
    raise TypeError(
        f"the output handler returned a {type(result).__name__}: return bytes or str, "
        "or a (body, content_type) pair"
    )


def load_handler(model_dir: str, framework: str, program: Path | None = None) -> ModelHandler:
    """Import ``program`` (if any), load the model through its ``model_fn`` or the
    framework's default, and bind the handler chain.

    Raises ``ModelLoadError`` naming the file or function at fault.
    """
    defaults = defaults_for(framework)
    module = import_program(program) if program else None
    where = program.name if program else "defaults"
    if module is not None:
        replaced = [n for n in ("input_fn", "predict_fn", "output_fn") if callable(getattr(module, n, None))]
        if callable(getattr(module, "transform_fn", None)) and replaced:
            raise ModelLoadError(
                f"{where} defines transform_fn and {', '.join(replaced)}: transform_fn replaces "
                "input_fn, predict_fn and output_fn, so define one or the other"
            )
    user_model_fn = getattr(module, "model_fn", None) if module else None
    model_fn = _bind(user_model_fn if callable(user_model_fn) else defaults.model_fn, "model_fn", where)
    context = InvocationContext(system_properties={"model_dir": model_dir, "gpu_id": None})
    try:
        model = model_fn(model_dir, context)
    except ModelLoadError:
        raise
    except Exception as exc:
        culprit = f"model_fn in {where}" if callable(user_model_fn) else f"the default {framework} model_fn"
        raise ModelLoadError(f"{culprit} raised {type(exc).__name__}: {exc} (model dir {model_dir})") from exc
    return ModelHandler(model, framework, module, defaults)
