"""The registry service: SageMaker Models and the Model Registry (model package groups,
their numbered versions, approval), on the state store, reading model data and
evaluation reports from the object store and announcing versions on the event bus.

>>> registry = platform.registry                                          # doctest: +SKIP
>>> registry.create_model_package_group(model_package_group_name="churn")   # doctest: +SKIP
>>> registry.create_model_package(model_package_group_name="churn",         # doctest: +SKIP
...     inference_specification={"Containers": [{"Image": "sklearn", "ModelDataUrl": "s3://models/model.tar.gz"}]})
{'ModelPackageArn': 'arn:groundfog:registry:local:000000000000:model-package/churn/1'}

The operations live in one module per concept, composed here: ``models_ops`` (models),
``groups`` (model package groups), ``packages`` (versions and approval), with what they
share in ``base``, request checks in ``validation`` and ``shapes``, and object-store
reads in ``reports``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.registry.groups import GroupOperations
from groundfog.registry.models_ops import ModelOperations
from groundfog.registry.packages import PackageOperations

if TYPE_CHECKING:
    from groundfog.core.bus import Bus
    from groundfog.core.clock import Clock
    from groundfog.core.config import Config
    from groundfog.core.state import StateStore
    from groundfog.storage import StorageService


class RegistryService(ModelOperations, GroupOperations, PackageOperations):
    """Models, model package groups and versions, as SageMaker's API names them."""

    name = "registry"

    def __init__(
        self,
        *,
        config: "Config",
        state: "StateStore",
        clock: "Clock",
        storage: "StorageService",
        bus: "Bus | None" = None,
    ) -> None:
        super().__init__(config=config, state=state, clock=clock)
        self.storage = storage
        self.bus = bus
