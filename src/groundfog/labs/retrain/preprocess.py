"""Preprocess step: check the uploaded CSV, then split it into train and test sets.

A file that is not a numeric table with a ``label`` column stops the pipeline here, with
the file and line at fault in the step's failure reason.
"""

import argparse
import csv
import glob
import os
import random

INPUT = "/opt/ml/processing/input/data"
OUTPUT = "/opt/ml/processing"


def read_rows(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or "label" not in header:
            raise ValueError(f"{os.path.basename(path)}: line 1: the header has no 'label' column: {header}")
        rows = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{os.path.basename(path)}: line {line}: {len(row)} fields, expected {len(header)}")
            try:
                rows.append([float(v) for v in row])
            except ValueError:
                raise ValueError(f"{os.path.basename(path)}: line {line}: a value is not a number: {row[:4]}...") from None
    return header, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--test-fraction", type=float, default=0.25)
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(INPUT, "**", "*.csv"), recursive=True))
    if not files:
        raise ValueError(f"no CSV file arrived in {INPUT}")
    header, rows = [], []
    for path in files:
        header, more = read_rows(path)
        rows.extend(more)
    if len(rows) < 20:
        raise ValueError(f"only {len(rows)} rows arrived; at least 20 are needed to train and evaluate")
    random.Random(0).shuffle(rows)
    cut = int(len(rows) * (1 - args.test_fraction))
    for name, part in (("train", rows[:cut]), ("test", rows[cut:])):
        os.makedirs(os.path.join(OUTPUT, name), exist_ok=True)
        with open(os.path.join(OUTPUT, name, f"{name}.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(part)
    print(f"preprocessed {len(rows)} rows from {len(files)} file(s): {cut} train, {len(rows) - cut} test")


if __name__ == "__main__":
    main()
