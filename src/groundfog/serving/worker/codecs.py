"""Request payloads to numpy arrays and predictions back to bytes, by content type:
the default (de)serialisation of SageMaker's inference toolkits.

    decode(b"1,2\\n3,4\\n", "text/csv")        -> array([[1., 2.], [3., 4.]])
    decode(b'{"instances": [1, 2]}', "application/json")  -> array([[1., 2.]])
    encode(np.array([0, 1]), "text/csv")       -> b"0\\n1\\n"

Errors a client can fix are typed, each with the HTTP status the worker answers:

    InvocationError (ValidationError)  400  the payload cannot be decoded
    ├── UnsupportedContentType         415  no decoder for the request's content type
    └── UnsupportedAccept              406  no encoder for any type the client accepts
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from groundfog.core.errors import ValidationError

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
NPY = "application/x-npy"
ANY = "*/*"

# Payloads of these types reach a user's input_fn as str, as SageMaker's scikit-learn
# container passes them; every other type arrives as bytes.
TEXT_TYPES = frozenset({CSV, JSON})


class InvocationError(ValidationError):
    """A request the model cannot serve as sent; the message says what to change."""

    status_code = 400


class UnsupportedContentType(InvocationError):
    status_code = 415


class UnsupportedAccept(InvocationError):
    status_code = 406


def media_type(header: str | None, default: str = JSON) -> str:
    """The bare, lower-case media type of a Content-Type value.

    >>> media_type("text/csv; charset=utf-8")
    'text/csv'
    """
    if not header:
        return default
    return header.partition(";")[0].strip().lower() or default


def as_text(body: bytes) -> str:
    """``body`` as UTF-8 text, or a 400 that says it is not."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvocationError(f"the payload is not valid UTF-8 (byte {exc.start})") from None


# ---------------------------------------------------------------- decoding


def decode_csv(body: bytes | str) -> np.ndarray:
    """CSV lines of numbers to a 2-D float array, one row per line (blank lines skipped)."""
    text = body if isinstance(body, str) else as_text(body)
    if not text.strip():
        raise InvocationError("the CSV payload is empty")
    try:
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        # The fast parser's message counts rows from 0 and skips blank lines: find the
        # line a person would count instead, on this slow path only.
        raise InvocationError(_bad_csv_line(text)) from None


def _bad_csv_line(text: str) -> str:
    width = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        values = line.split(",")
        for value in values:
            try:
                float(value)
            except ValueError:
                return f"line {number}: could not convert {value.strip()!r} to a number"
        if width is None:
            width = len(values)
        elif len(values) != width:
            return f"line {number}: expected {width} values like the lines before it, found {len(values)}"
    return "the CSV payload could not be read as rows of numbers"


def decode_json(body: bytes | str) -> np.ndarray:
    """A JSON list, list of lists, scalar, or ``{"instances": [...]}`` / ``{"inputs": [...]}``
    to a float array; a flat list of numbers is ONE row."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvocationError(f"the payload is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        key = "instances" if "instances" in data else "inputs" if "inputs" in data else None
        if key is None:
            raise InvocationError(
                'a JSON object payload needs an "instances" or "inputs" list, '
                f"found keys {sorted(data)[:5]}"
            )
        data = data[key]
    try:
        array = np.asarray(data, dtype=np.float64)
    except (ValueError, TypeError):
        raise InvocationError(_bad_json_value(data) or "the JSON payload is not an array of numbers") from None
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array


def _bad_json_value(data: Any, where: str = "") -> str:
    if isinstance(data, list):
        lengths = {len(item) for item in data if isinstance(item, list)}
        if len(lengths) > 1:
            return f"the JSON rows{where and ' in ' + where} have different lengths: {sorted(lengths)}"
        for index, item in enumerate(data):
            message = _bad_json_value(item, f"{where}[{index}]")
            if message:
                return message
        return ""
    if isinstance(data, (bool, int, float)) or data is None:
        return ""
    return f"JSON value {json.dumps(data)[:60]} at {where or 'the top level'} is not a number"


def decode_npy(body: bytes | str) -> np.ndarray:
    """An ``.npy`` file's bytes to its array (pickled object arrays are refused)."""
    raw = body.encode("latin-1") if isinstance(body, str) else body
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvocationError(f"the payload is not a readable .npy array: {exc}") from None


DECODERS: dict[str, Callable[[bytes | str], np.ndarray]] = {
    CSV: decode_csv,
    JSON: decode_json,
    NPY: decode_npy,
}


def decode(body: bytes | str, content_type: str) -> np.ndarray:
    """``body`` as an array, by its bare media type; 415 when there is no decoder."""
    decoder = DECODERS.get(content_type)
    if decoder is None:
        raise UnsupportedContentType(
            f"unsupported content type {content_type!r}: this model accepts {', '.join(DECODERS)}"
        )
    return decoder(body)


# ---------------------------------------------------------------- encoding


def as_array(prediction: Any) -> np.ndarray:
    """A prediction as a numpy array; torch tensors are converted without importing torch."""
    if isinstance(prediction, np.ndarray):
        return prediction
    if hasattr(prediction, "detach"):
        return prediction.detach().cpu().numpy()
    return np.asarray(prediction)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "detach"):
        return as_array(value).tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_json(prediction: Any) -> bytes:
    if isinstance(prediction, np.ndarray) or hasattr(prediction, "detach"):
        prediction = as_array(prediction).tolist()
    return json.dumps(prediction, default=_jsonable).encode()


def encode_csv(prediction: Any) -> bytes:
    """One line per row; a 1-D prediction is one value per line (as ``np.savetxt``)."""
    array = as_array(prediction)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 1:
        lines = map(str, array.tolist())
    else:
        lines = (",".join(map(str, row)) for row in array.reshape(len(array), -1).tolist())
    return ("\n".join(lines) + "\n").encode()


def encode_jsonlines(prediction: Any) -> bytes:
    rows = as_array(prediction).tolist() if not isinstance(prediction, list) else prediction
    if not isinstance(rows, list):
        rows = [rows]
    return "".join(json.dumps(row, default=_jsonable) + "\n" for row in rows).encode()


def encode_npy(prediction: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, as_array(prediction), allow_pickle=False)
    return buffer.getvalue()


ENCODERS: dict[str, Callable[[Any], bytes]] = {
    JSON: encode_json,
    CSV: encode_csv,
    NPY: encode_npy,
    JSONLINES: encode_jsonlines,
}


def choose_accept(accept: str | None, content_type: str, default: str | None = None) -> str:
    """The media type to answer in: the first the client accepts that can be produced.

    A missing or ``*/*`` Accept means ``default`` if given, else the request's own
    content type when it can be produced, else JSON.

    >>> choose_accept("text/csv;q=0.9, application/json", "text/csv")
    'text/csv'
    >>> choose_accept("*/*", "text/csv")
    'text/csv'
    """
    if not accept or accept.strip() == ANY:
        if default:
            return default
        return content_type if content_type in ENCODERS else JSON
    for candidate in accept.split(","):
        kind = media_type(candidate)
        if kind in ENCODERS:
            return kind
        if kind == ANY:
            return choose_accept(None, content_type, default)
    raise UnsupportedAccept(f"unsupported accept {accept!r}: this model answers in {', '.join(ENCODERS)}")


def encode(prediction: Any, accept: str) -> bytes:
    """``prediction`` serialised as ``accept`` (a bare media type that ``choose_accept`` gave)."""
    encoder = ENCODERS.get(accept)
    if encoder is None:
        raise UnsupportedAccept(f"unsupported accept {accept!r}: this model answers in {', '.join(ENCODERS)}")
    return encoder(prediction)
