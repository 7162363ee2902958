"""Real-time endpoints (SageMaker hosting): endpoint configs with production and shadow
variants, endpoints served by model-server worker processes behind a router, data
capture, per-variant metrics, blue/green and rolling deployments with auto-rollback,
and target-tracking autoscaling.

>>> platform.serving.create_endpoint_config(endpoint_config_name="churn-v1",     # doctest: +SKIP
...     production_variants=[{"VariantName": "AllTraffic", "ModelName": "churn-v1"}])
>>> platform.serving.create_endpoint(endpoint_name="churn", endpoint_config_name="churn-v1")  # doctest: +SKIP
>>> platform.serving.invoke_endpoint("churn", b"1.0,2.0", content_type="text/csv").body    # doctest: +SKIP
b'0\\n'
"""

from groundfog.core.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {"ServingService": "groundfog.serving.service"})
