"""The model registry (SageMaker Models and Model Registry): models, model package
groups, numbered versions with their metrics, lineage and approval status.

>>> from groundfog.registry import RegistryService

Modules, by concept: ``tables`` (state), ``validation`` (request values checked) and
``shapes`` (SageMaker's nested request members), ``reports`` (model data and evaluation
reports in the object store), ``base`` (what the parts share), ``models_ops``,
``groups`` and ``packages`` (operations), ``service`` (the parts composed), ``cli``
(``groundfog registry ...`` and ``groundfog models ...``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundfog.core.lazy import lazy_exports

_EXPORTS = {
    "RegistryService": "groundfog.registry.service",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from groundfog.registry.service import RegistryService
