"""How a ``Predictor`` turns data into a request body and a response body back into data,
under the names of the SageMaker SDK's ``sagemaker.serializers`` and
``sagemaker.deserializers``.

A serializer has ``CONTENT_TYPE`` and ``serialize(data)``; a deserializer has ``ACCEPT``
(a tuple of media types, sent joined as the Accept header) and
``deserialize(stream, content_type)``, where ``stream`` is file-like (``read()``,
``close()``) as botocore's ``StreamingBody`` is, so custom ones written for the SDK work.

>>> CSVSerializer().serialize([[1, 2], [3, 4]])
'1,2\\n3,4'
>>> JSONSerializer().serialize({"instances": [[1, 2]]})
'{"instances": [[1, 2]]}'
>>> import io
>>> CSVDeserializer().deserialize(io.BytesIO(b"0\\n1\\n"), "text/csv")
[['0'], ['1']]

numpy is imported only by the numpy-aware classes, when they run.
"""

from __future__ import annotations

import abc
import csv
import io
import json
from typing import Any


class BaseSerializer(abc.ABC):
    """A serializer's interface: ``CONTENT_TYPE`` and ``serialize(data)``."""

    def __init__(self, content_type: str = "application/octet-stream") -> None:
        self.content_type = content_type

    @property
    def CONTENT_TYPE(self) -> str:  # noqa: N802 - the SageMaker SDK's name
        return self.content_type

    @abc.abstractmethod
    def serialize(self, data: Any) -> Any:
        """The request body for ``data``."""


class IdentitySerializer(BaseSerializer):
    """The data as it is (``bytes``, ``str`` or a file), sent as ``content_type``.

    >>> IdentitySerializer("text/csv").serialize(b"1,2")
    b'1,2'
    """

    def serialize(self, data: Any) -> Any:
        return data


class CSVSerializer(BaseSerializer):
    """Rows of values as CSV text: a list or array is one row, a list of lists (or a 2-D
    array) several; a ``str`` passes as it is, a DataFrame without header or index.

    >>> CSVSerializer().serialize([0.5, "a b"])
    '0.5,a b'
    """

    def __init__(self, content_type: str = "text/csv") -> None:
        super().__init__(content_type)

    def serialize(self, data: Any) -> Any:
        if hasattr(data, "read"):
            return data.read()
        if hasattr(data, "to_csv"):  # a pandas DataFrame or Series
            return data.to_csv(header=False, index=False).rstrip("\n")
        if isinstance(data, (str, bytes)):
            return data
        if _sequence(data) and len(data) > 0 and _sequence(data[0]):
            return "\n".join(_csv_row(row) for row in data)
        return _csv_row(data)


def _sequence(data: Any) -> bool:
    return (hasattr(data, "__len__") and hasattr(data, "__getitem__") and getattr(data, "ndim", 1) != 0
            and not isinstance(data, (str, bytes, dict)))  # fmt: skip


def _csv_row(row: Any) -> str:
    if isinstance(row, str):
        return row
    if hasattr(row, "flatten"):  # a numpy array: one row whatever its shape, as in the SDK
        row = row.flatten().tolist()
    if not hasattr(row, "__len__"):
        raise ValueError(f"CSVSerializer cannot serialize a {type(row).__name__}; give rows of values")
    if len(row) == 0:
        raise ValueError("CSVSerializer cannot serialize an empty row")
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue().rstrip("\r\n")


class JSONSerializer(BaseSerializer):
    """Data as JSON text; numpy arrays (also inside a dict) become lists.

    >>> JSONSerializer().serialize([1, 2])
    '[1, 2]'
    """

    def __init__(self, content_type: str = "application/json") -> None:
        super().__init__(content_type)

    def serialize(self, data: Any) -> Any:
        if hasattr(data, "read"):
            return data.read()
        if isinstance(data, dict):
            return json.dumps({key: _listed(value) for key, value in data.items()})
        return json.dumps(_listed(data))


def _listed(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


class NumpySerializer(BaseSerializer):
    """Data as an ``.npy`` file's bytes (``np.save``); lists become arrays of ``dtype``.
    For ``text/csv`` or ``application/json`` content types, the array as that text.

    >>> NumpySerializer().serialize([1.0, 2.0])[:6]
    b'\\x93NUMPY'
    """

    def __init__(self, dtype: Any = None, content_type: str = "application/x-npy") -> None:
        super().__init__(content_type)
        self.dtype = dtype

    def serialize(self, data: Any) -> Any:
        import numpy as np

        if hasattr(data, "read"):
            return data.read()
        if isinstance(data, (bytes, str)):
            return data
        array = np.asarray(data, dtype=self.dtype)
        if array.size == 0:
            raise ValueError("NumpySerializer cannot serialize an empty array")
        if self.content_type == "text/csv":
            return CSVSerializer().serialize(array if array.ndim > 1 else [array.tolist()])
        if self.content_type == "application/json":
            return json.dumps(array.tolist())
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()


# ------------------------------------------------------------------------ deserializers


class BaseDeserializer(abc.ABC):
    """A deserializer's interface: ``ACCEPT`` and ``deserialize(stream, content_type)``."""

    def __init__(self, accept: str | tuple[str, ...] | list[str] = "*/*") -> None:
        self.accept = accept

    @property
    def ACCEPT(self) -> tuple[str, ...]:  # noqa: N802 - the SageMaker SDK's name
        return (self.accept,) if isinstance(self.accept, str) else tuple(self.accept)

    @abc.abstractmethod
    def deserialize(self, stream: Any, content_type: str) -> Any:
        """The answer read from ``stream`` (which it closes), sent as ``content_type``."""


def _read(stream: Any) -> bytes:
    try:
        return stream.read()
    finally:
        stream.close()


class BytesDeserializer(BaseDeserializer):
    """The body's bytes as they are.

    >>> BytesDeserializer().deserialize(io.BytesIO(b"ok"), "text/plain")
    b'ok'
    """

    def deserialize(self, stream: Any, content_type: str) -> bytes:
        return _read(stream)


class StringDeserializer(BaseDeserializer):
    """The body as text in ``encoding``."""

    def __init__(self, encoding: str = "UTF-8", accept: str | tuple[str, ...] = "application/json") -> None:
        super().__init__(accept)
        self.encoding = encoding

    def deserialize(self, stream: Any, content_type: str) -> str:
        return _read(stream).decode(self.encoding)


class JSONDeserializer(BaseDeserializer):
    """The body parsed as JSON.

    >>> JSONDeserializer().deserialize(io.BytesIO(b"[0, 1]"), "application/json")
    [0, 1]
    """

    def __init__(self, accept: str | tuple[str, ...] = "application/json") -> None:
        super().__init__(accept)

    def deserialize(self, stream: Any, content_type: str) -> Any:
        return json.loads(_read(stream))


class CSVDeserializer(BaseDeserializer):
    """The body's CSV rows, each a list of strings (as ``csv.reader`` gives them)."""

    def __init__(self, encoding: str = "utf-8", accept: str | tuple[str, ...] = "text/csv") -> None:
        super().__init__(accept)
        self.encoding = encoding

    def deserialize(self, stream: Any, content_type: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(_read(stream).decode(self.encoding))))


class NumpyDeserializer(BaseDeserializer):
    """The body as a numpy array, by its content type: ``.npy`` bytes, CSV numbers or a
    JSON array. ``allow_pickle`` stays off unless the endpoint is trusted to send objects."""

    def __init__(self, dtype: Any = None, accept: str | tuple[str, ...] = "application/x-npy",
                 allow_pickle: bool = False) -> None:  # fmt: skip
        super().__init__(accept)
        self.dtype = dtype
        self.allow_pickle = allow_pickle

    def deserialize(self, stream: Any, content_type: str) -> Any:
        import numpy as np

        data = _read(stream)
        kind = (content_type or "").partition(";")[0].strip().lower()
        if kind == "text/csv":
            return np.genfromtxt(io.StringIO(data.decode("utf-8")), delimiter=",", dtype=self.dtype)
        if kind in ("application/json", "application/jsonlines"):
            return np.array(json.loads(data), dtype=self.dtype)
        if kind in ("application/x-npy", "application/x-npz"):
            return np.load(io.BytesIO(data), allow_pickle=self.allow_pickle)
        raise ValueError(f"NumpyDeserializer cannot read a {content_type!r} response; "
                         "ask for application/x-npy, text/csv or application/json")  # fmt: skip


__all__ = [
    "BaseSerializer", "IdentitySerializer", "CSVSerializer", "JSONSerializer", "NumpySerializer",
    "BaseDeserializer", "BytesDeserializer", "StringDeserializer", "JSONDeserializer", "CSVDeserializer",
    "NumpyDeserializer",
]  # fmt: skip
