"""The hosting SDK: SageMaker code for real-time endpoints, with groundfog imports.

``Model`` / ``SKLearnModel`` / ``XGBoostModel`` / ``PyTorchModel`` create and deploy a
model (``sdk_model``), ``Predictor`` invokes, updates and deletes an endpoint
(``sdk_predictor``), ``DataCaptureConfig`` says what the endpoint captures, and the
serializers and deserializers of ``sagemaker.serializers`` / ``sagemaker.deserializers``
are in ``serializers``. ``groundfog`` re-exports the main names.

>>> import groundfog as gf
>>> from groundfog.serving.sdk import CSVSerializer, JSONDeserializer
>>> predictor = gf.SKLearnModel(model_data="s3://models/churn/model.tar.gz").deploy(   # doctest: +SKIP
...     serializer=CSVSerializer(), deserializer=JSONDeserializer())
>>> predictor.predict([[0.5, 1.2, 3.0]])                                              # doctest: +SKIP
[1]
>>> predictor.delete_endpoint(); predictor.delete_model()                              # doctest: +SKIP
"""

from __future__ import annotations

from groundfog.serving.sdk_model import (
    DataCaptureConfig,
    Model,
    PyTorchModel,
    SKLearnModel,
    XGBoostModel,
    model_code_environment,
)
from groundfog.serving.sdk_predictor import Predictor
from groundfog.serving.serializers import (
    BaseDeserializer,
    BaseSerializer,
    BytesDeserializer,
    CSVDeserializer,
    CSVSerializer,
    IdentitySerializer,
    JSONDeserializer,
    JSONSerializer,
    NumpyDeserializer,
    NumpySerializer,
    StringDeserializer,
)

__all__ = [
    "Model", "SKLearnModel", "XGBoostModel", "PyTorchModel", "DataCaptureConfig", "Predictor",
    "model_code_environment",
    "BaseSerializer", "IdentitySerializer", "CSVSerializer", "JSONSerializer", "NumpySerializer",
    "BaseDeserializer", "BytesDeserializer", "StringDeserializer", "JSONDeserializer", "CSVDeserializer",
    "NumpyDeserializer",
]  # fmt: skip
