"""The docstring examples of every groundfog module, run as tests: one test per module.

Not ``pytest --doctest-modules``: that would also import every ``.py`` under ``tests/``,
and the training scripts there run (and crash, or sleep) at import. Here only the
``groundfog`` package is searched, without importing anything at collection; a module
is imported when its test runs. ``__main__`` modules are never imported (they are
scripts). The option flags are those pytest's doctest support would use here.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import groundfog

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules(path: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, source file) of each module under a package directory, importing none."""
    for info in pkgutil.iter_modules([str(path)]):
        if info.name == "__main__":
            continue
        if info.ispkg:
            yield prefix + info.name, path / info.name / "__init__.py"
            yield from _modules(path / info.name, f"{prefix}{info.name}.")
        else:
            yield prefix + info.name, path / f"{info.name}.py"


def _modules_with_examples() -> list[str]:
    root = Path(groundfog.__file__).parent
    found = [("groundfog", root / "__init__.py"), *_modules(root, "groundfog.")]
    # A module without ">>>" in its source has no docstring example to run.
    return sorted(name for name, source in found if source.is_file() and ">>>" in source.read_text(encoding="utf-8"))


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    tests = [t for t in doctest.DocTestFinder().find(module, module_name) if t.examples]
    runner = doctest.DocTestRunner(verbose=False, optionflags=FLAGS)
    report = io.StringIO()
    attempted = 0
    for test in sorted(tests, key=lambda t: t.name):
        attempted += runner.run(test, out=report.write).attempted
    if runner.failures:
        pytest.fail(f"{runner.failures} docstring example(s) failed in {module_name}:\n{report.getvalue()}",
                    pytrace=False)
    if not attempted:
        pytest.skip("every docstring example is an illustration (+SKIP)")
