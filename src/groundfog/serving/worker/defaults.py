"""The handlers a framework's SageMaker container uses when the user's module leaves
one out: how it finds and loads the model file, decodes a request, predicts, encodes.

    defaults_for("sklearn").model_fn("/models/churn")   # joblib.load(".../model.joblib")

| framework | model file                                   | input reaches predict_fn as | predict            |
|-----------|----------------------------------------------|-----------------------------|--------------------|
| sklearn   | model.joblib, model.pkl, model.pickle, or    | numpy float64 array         | model.predict(x)   |
|           | the only *.joblib / *.pkl / *.pickle         |                             |                    |
| xgboost   | xgboost-model, or the only *.json / *.ubj /  | xgboost.DMatrix             | booster.predict(x) |
|           | *.bst / *.model (save_model, or a pickle)    |                             |                    |
| pytorch   | model.pt, model.pth, or the only *.pt / *.pth| torch tensor (float32 for   | model(x), no grad  |
|           | (TorchScript, or a whole pickled nn.Module)  | CSV / JSON)                 |                    |

torch and xgboost are imported only by their own framework's functions, so a
scikit-learn worker starts without paying for either.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundfog.core.errors import GroundfogError, ValidationError
from groundfog.serving.worker import codecs

FRAMEWORKS = ("sklearn", "xgboost", "pytorch")


class ModelLoadError(GroundfogError):
    """The model could not be loaded; the message names the file or function at fault."""


@dataclass(frozen=True)
class FrameworkDefaults:
    """A framework's four default handlers, in the toolkit's signatures."""

    model_fn: Callable[[str], Any]
    input_fn: Callable[[bytes | str, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], bytes]


def defaults_for(framework: str) -> FrameworkDefaults:
    """The default handlers of ``framework`` (one of ``FRAMEWORKS``)."""
    try:
        return _DEFAULTS[framework]
    except KeyError:
        raise ValidationError(
            f"unknown framework {framework!r}: expected one of {', '.join(FRAMEWORKS)}", field="framework"
        ) from None


def find_model_file(model_dir: str, names: tuple[str, ...], suffixes: tuple[str, ...]) -> Path:
    """The first of ``names`` in ``model_dir``, else its only file ending in one of ``suffixes``."""
    root = Path(model_dir)
    for name in names:
        if (root / name).is_file():
            return root / name
    matches = sorted(p for p in root.glob("*") if p.is_file() and p.name.endswith(suffixes)) if root.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    looked_for = f"{', '.join(names)} or a single {' / '.join('*' + s for s in suffixes)} file"
    if len(matches) > 1:
        raise ModelLoadError(
            f"several model files in {model_dir} ({', '.join(p.name for p in matches)}): "
            f"name the one to serve {names[0]}, or define model_fn"
        )
    raise ModelLoadError(f"no model file in {model_dir}: looked for {looked_for}")


def output_fn(prediction: Any, accept: str) -> bytes:
    return codecs.encode(prediction, accept)


# ---------------------------------------------------------------- scikit-learn


def sklearn_model_fn(model_dir: str) -> Any:
    import joblib  # only the scikit-learn worker needs it

    path = find_model_file(model_dir, ("model.joblib", "model.pkl", "model.pickle"), (".joblib", ".pkl", ".pickle"))
    try:
        return joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"could not load {path} with joblib.load: {type(exc).__name__}: {exc}") from exc


def sklearn_input_fn(body: bytes | str, content_type: str) -> Any:
    return codecs.decode(body, content_type)


def sklearn_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


# ---------------------------------------------------------------- XGBoost


def xgboost_model_fn(model_dir: str) -> Any:
    import xgboost as xgb  # heavy: imported by the XGBoost worker only

    path = find_model_file(model_dir, ("xgboost-model",), (".json", ".ubj", ".bst", ".model"))
    booster = xgb.Booster()
    try:
        with warnings.catch_warnings():
            # SageMaker names the file without an extension; xgboost warns that it guesses.
            warnings.simplefilter("ignore", UserWarning)
            booster.load_model(str(path))
        return booster
    except (xgb.core.XGBoostError, UnicodeDecodeError) as exc:
        # xgboost itself fails to decode its error message about a binary (pickled) file.
        native_error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # Older SageMaker XGBoost containers pickled the Booster (or an XGBModel) instead.
    try:
        with open(path, "rb") as f:
            model = pickle.load(f)
    except Exception:
        try:
            import joblib

            model = joblib.load(path)
        except Exception:
            raise ModelLoadError(
                f"could not load {path}: not an XGBoost model file ({native_error}) nor a pickled model"
            ) from None
    if isinstance(model, xgb.XGBModel):
        return model.get_booster()
    if isinstance(model, xgb.Booster):
        return model
    raise ModelLoadError(f"{path} holds a pickled {type(model).__name__}, not an XGBoost Booster")


def xgboost_input_fn(body: bytes | str, content_type: str) -> Any:
    import xgboost as xgb

    return xgb.DMatrix(codecs.decode(body, content_type))


def xgboost_predict_fn(data: Any, model: Any) -> Any:
    import xgboost as xgb

    if not isinstance(data, xgb.DMatrix):
        data = xgb.DMatrix(codecs.as_array(data))
    if isinstance(model, xgb.Booster):
        # Models trained on a DataFrame carry feature names a numpy payload lacks.
        return model.predict(data, validate_features=False)
    return model.predict(data)


# ---------------------------------------------------------------- PyTorch


def pytorch_model_fn(model_dir: str) -> Any:
    import torch  # heavy: imported by the PyTorch worker only

    path = find_model_file(model_dir, ("model.pt", "model.pth"), (".pt", ".pth"))
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError):
        try:
            model = torch.load(str(path), map_location="cpu", weights_only=False)
        except Exception as exc:
            raise ModelLoadError(
                f"could not load {path}: neither TorchScript nor a torch.save'd model ({type(exc).__name__}: {exc})"
            ) from exc
    if isinstance(model, dict):
        raise ModelLoadError(
            f"{path} holds a state_dict, not a model: define model_fn(model_dir) in your inference "
            "script to build the module and load_state_dict into it"
        )
    if not isinstance(model, torch.nn.Module):
        raise ModelLoadError(f"{path} holds a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()


def pytorch_input_fn(body: bytes | str, content_type: str) -> Any:
    import torch

    array = codecs.decode(body, content_type)
    # As SageMaker's PyTorch toolkit: text payloads become float32, .npy keeps its dtype.
    if content_type in codecs.TEXT_TYPES:
        return torch.as_tensor(array, dtype=torch.float32)
    return torch.from_numpy(array)


def pytorch_predict_fn(data: Any, model: Any) -> Any:
    import torch

    tensor = data if isinstance(data, torch.Tensor) else torch.as_tensor(data, dtype=torch.float32)
    with torch.inference_mode():
        output = model(tensor)
    return output.numpy() if isinstance(output, torch.Tensor) else output


_DEFAULTS = {
    "sklearn": FrameworkDefaults(sklearn_model_fn, sklearn_input_fn, sklearn_predict_fn, output_fn),
    "xgboost": FrameworkDefaults(xgboost_model_fn, xgboost_input_fn, xgboost_predict_fn, output_fn),
    "pytorch": FrameworkDefaults(pytorch_model_fn, pytorch_input_fn, pytorch_predict_fn, output_fn),
}
