"""The XGBoost algorithm's input data: a channel's files read as CSV (no header, label
first), libsvm or Parquet into a ``Dataset``, its labels checked against the objective,
and the ``xgboost.DMatrix`` built from it. Data the algorithm cannot use raises
``DataError``, whose message names the file and, for text formats, the line
(``train.csv line 7, column 3: 'abc' is not a number``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

__all__ = ["DataError", "Dataset", "check_labels", "load_channel"]

# Strings read as a missing value in CSV (besides what float() reads, like "nan").
_CSV_MISSING = ("", "NA", "N/A", "null", "NULL", "None")


class DataError(ValueError):
    """Input data the algorithm cannot use; the message names the file and, for text
    formats, the line."""


@dataclass
class Dataset:
    """A channel's rows: features (dense float32, or CSR for libsvm), labels, and
    optional instance weights and query ids."""

    features: Any
    labels: np.ndarray
    weights: np.ndarray | None = None
    qid: np.ndarray | None = None

    @property
    def num_columns(self) -> int:
        return int(self.features.shape[1])


def load_channel(channel: str, directory: Path, content_type: str, *, csv_weights: bool = False) -> Dataset:
    """Every data file under ``directory`` (hidden ones skipped), concatenated in
    path order, read as ``content_type`` (canonical: text/csv, text/libsvm,
    application/x-parquet)."""
    files = _channel_files(channel, directory)
    if content_type == "text/csv":
        return _load_csv(files, csv_weights=csv_weights)
    if content_type == "text/libsvm":
        return _load_libsvm(files)
    return _load_parquet(files)


def _channel_files(channel: str, directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise DataError(f"the {channel} channel's directory {directory} does not exist")
    files = [
        path
        for path in sorted(directory.rglob("*"))
        if path.is_file()
        # SageMaker's upload/download markers and editors' files start with a dot.
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and path.stat().st_size > 0
    ]
    if not files:
        raise DataError(f"the {channel} channel ({directory}) has no data files")
    return files


def _load_csv(files: list[Path], *, csv_weights: bool) -> Dataset:
    import pandas as pd  # only CSV channels pay for pandas

    blocks: list[np.ndarray] = []
    for path in files:
        try:
            frame = pd.read_csv(path, header=None, dtype=np.float32, keep_default_na=False,
                                na_values=list(_CSV_MISSING), skip_blank_lines=True)  # fmt: skip
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(_csv_problem(path) or f"{path}: not a CSV of numbers: {_first_line(exc)}") from None
        block = frame.to_numpy(dtype=np.float32)
        if blocks and block.shape[1] != blocks[0].shape[1]:
            raise DataError(
                f"{path} has {block.shape[1]} columns but {files[0]} has {blocks[0].shape[1]}; "
                "every file of a channel needs the same columns"
            )
        if np.isnan(block[:, 0]).any():
            raise DataError(_csv_problem(path) or f"{path}: a row has no label (first column)")
        blocks.append(block)
    data = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    first_feature = 2 if csv_weights else 1
    if data.shape[1] <= first_feature:
        layout = "label, weight, features..." if csv_weights else "label, features..."
        raise DataError(f"{files[0]} has {data.shape[1]} column(s): no features (the layout is {layout}, no header)")
    weights = None
    if csv_weights:
        weights = data[:, 1]
        if np.isnan(weights).any() or (weights < 0).any():
            raise DataError(f"{files[0]}: with csv_weights=1 the second column is the instance weight; "
                            "every row needs a weight >= 0")  # fmt: skip
    return Dataset(features=data[:, first_feature:], labels=data[:, 0], weights=weights)


def _csv_problem(path: Path) -> str | None:
    """Find the first line of ``path`` that is not label-first numeric CSV, and say
    why; None if no line is at fault (pandas' own message is used then). Only run
    after the fast reader failed, so its slowness costs nothing on good data."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            width = None
            for line_no, row in enumerate(csv.reader(f), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if width is None:
                    width = len(row)
                elif len(row) > width:
                    return f"{path} line {line_no} has {len(row)} columns; the first row has {width}"
                for column, cell in enumerate(row, start=1):
                    value = cell.strip()
                    if value in _CSV_MISSING:
                        if column == 1:
                            return f"{path} line {line_no}: the label (first column) is missing"
                        continue
                    try:
                        float(value)
                    except ValueError:
                        hint = "; the CSV must have no header row and the label in the first column" if line_no == 1 else ""
                        return f"{path} line {line_no}, column {column}: {cell!r} is not a number{hint}"
    except UnicodeDecodeError as exc:
        return f"{path} is not UTF-8 text (byte {exc.start}); is it really CSV?"
    except csv.Error as exc:
        return f"{path}: {exc}"
    return None


def _load_libsvm(files: list[Path]) -> Dataset:
    import scipy.sparse as sp
    from sklearn.datasets import load_svmlight_file

    parts = []
    for path in files:
        try:
            # zero_based=True: feature index k is column k, as xgboost's own libsvm
            # parser (and so the serving side) reads it.
            parts.append(load_svmlight_file(str(path), zero_based=True, query_id=True, dtype=np.float32))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{path} is not valid libsvm data: {_first_line(exc)}") from None
    width = max(part[0].shape[1] for part in parts)
    features = sp.vstack([_widen(part[0], width) for part in parts], format="csr")
    labels = np.concatenate([part[1] for part in parts]).astype(np.float32)
    qids = [part[2] for part in parts]
    qid = np.concatenate(qids) if all(len(q) for q in qids) else None
    return Dataset(features=features, labels=labels, qid=qid)


def _widen(matrix: Any, width: int) -> Any:
    """The same CSR matrix with ``width`` columns (libsvm files need not mention the last feature)."""
    import scipy.sparse as sp

    if matrix.shape[1] == width:
        return matrix
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width))


def _load_parquet(files: list[Path]) -> Dataset:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    blocks: list[np.ndarray] = []
    names: list[str] | None = None
    for path in files:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{path} is not a readable Parquet file: {_first_line(exc)}") from None
        if names is not None and table.column_names != names:
            raise DataError(f"{path} has columns {table.column_names} but {files[0]} has {names}")
        names = table.column_names
        columns = []
        for name, column in zip(table.column_names, table.columns):
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                    or pa.types.is_boolean(column.type) or pa.types.is_decimal(column.type)):  # fmt: skip
                raise DataError(f"{path}: column {name!r} is {column.type}; every column must be numeric")
            columns.append(pc.cast(column, pa.float32()).to_numpy(zero_copy_only=False))
        blocks.append(np.column_stack(columns).astype(np.float32, copy=False))
    data = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    if data.shape[1] < 2:
        raise DataError(f"{files[0]} has {data.shape[1]} column(s): the label first, then at least one feature")
    missing = np.flatnonzero(np.isnan(data[:, 0]))
    if missing.size:
        label = (names or ["?"])[0]
        raise DataError(f"the Parquet data has no label (first column, {label!r}) in row {int(missing[0]) + 1}")
    return Dataset(features=data[:, 1:], labels=data[:, 0])


# What each objective accepts as a label; xgboost's own messages for these talk about
# base_score or fail deep inside the C++ core, so say it first in the user's terms.
_LABEL_RULES: tuple[tuple[tuple[str, ...], Callable[[np.ndarray], np.ndarray], str], ...] = (
    (("binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic"), lambda y: (y >= 0) & (y <= 1), "in [0, 1]"),
    (("count:poisson", "reg:tweedie"), lambda y: y >= 0, ">= 0"),
    (("reg:gamma",), lambda y: y > 0, "> 0"),
    (("reg:squaredlogerror",), lambda y: y > -1, "> -1"),
)


def check_labels(channel: str, labels: np.ndarray, objective: str, num_class: int | None) -> None:
    """Raise DataError naming the first row whose label ``objective`` cannot learn from."""
    if objective.startswith("multi:") and num_class is not None:
        ok, expected = (labels >= 0) & (labels < num_class) & (labels == np.round(labels)), f"an integer in [0, {num_class})"
    else:
        rule = next((r for r in _LABEL_RULES if objective in r[0]), None)
        if rule is None:
            return
        ok, expected = rule[1](labels), rule[2]
    bad = np.flatnonzero(~ok)
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"the {channel} channel's label in row {row + 1} is {labels[row]:g}; objective {objective} needs "
            f"labels {expected} ({bad.size} of {labels.size} rows are not)"
        )


def _dmatrix(data: Dataset, width: int, nthread: int) -> xgb.DMatrix:
    features = data.features if not hasattr(data.features, "indptr") else _widen(data.features, width)
    return xgb.DMatrix(features, label=data.labels, weight=data.weights, qid=data.qid, missing=np.nan, nthread=nthread)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
