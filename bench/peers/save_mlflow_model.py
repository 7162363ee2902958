"""Run by the peers' interpreter (``bench/.peers-venv/bin/python``), never the project's:

    bench/.peers-venv/bin/python bench/peers/save_mlflow_model.py MODEL.joblib OUT_DIR

Loads the very estimator the benchmark trained (a joblib file, same scikit-learn
version on both sides) and saves it as an MLflow model with ``mlflow.sklearn.save_model``
and MLflow's defaults (no signature: a signature with a tensor spec makes MLflow refuse
CSV input), for ``mlflow models serve -m OUT_DIR --env-manager local``.
"""

from __future__ import annotations

import logging
import sys


def main() -> None:
    import joblib
    import mlflow.sklearn

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    source, out = sys.argv[1], sys.argv[2]
    mlflow.sklearn.save_model(joblib.load(source), out)


if __name__ == "__main__":
    main()
