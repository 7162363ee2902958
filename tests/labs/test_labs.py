"""Every lab is also a test: its own checks must all pass."""

import pytest

from groundfog.labs import LABS, run_lab


@pytest.mark.parametrize("name", sorted(LABS))
def test_lab_checks_its_claim(name):
    result = run_lab(name)
    failed = [c for c in result.checks if not c.passed]
    assert result.checks, f"lab {name} checked nothing"
    assert not failed, [(c.claim, c.detail) for c in failed]


def test_lab_on_the_platform_fixture(platform):
    assert run_lab("s3-events-need-eventbridge", platform).passed
