"""SageMaker List* calls page with MaxResults and NextToken, on SQLite and PostgreSQL:
every row exactly once, in order, also when rows are added between pages or share a
creation time; a token that is not one is refused, naming NextToken."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from groundfog import Platform
from groundfog.core.clock import ManualClock
from groundfog.core.config import Config
from groundfog.core.errors import ValidationError


@pytest.fixture
def clocked(tmp_path, state_url: str):
    """A platform on each state backend whose clock moves only when told."""
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    p = Platform(Config(home=tmp_path / "home", state_url=state_url), clock=clock)
    yield p, clock
    p.close()


def _groups_made(p: Platform, clock: ManualClock, n: int, name: str = "g{}") -> None:
    """``n`` model package groups, a second apart, named ``name.format(i)``."""
    for i in range(n):
        p.registry.create_model_package_group(model_package_group_name=name.format(i))
        clock.advance(1)


def _pages(list_call, key: str, name_key: str, **kwargs: Any) -> list[list[str]]:
    pages, token = [], None
    while True:
        answer = list_call(**kwargs, **({"next_token": token} if token else {}))
        pages.append([item[name_key] for item in answer[key]])
        token = answer.get("NextToken")
        if token is None:
            return pages
        assert isinstance(token, str) and token


def _groups(p: Platform, **kwargs: Any) -> list[list[str]]:
    return _pages(p.registry.list_model_package_groups, "ModelPackageGroupSummaryList", "ModelPackageGroupName",
                  **kwargs)  # fmt: skip


def test_pages_hold_every_row_once_in_order_whatever_the_sort(clocked):
    p, clock = clocked
    _groups_made(p, clock, 7)
    assert _groups(p, max_results=3) == [["g6", "g5", "g4"], ["g3", "g2", "g1"], ["g0"]]
    assert _groups(p, max_results=3, sort_order="Ascending") == [["g0", "g1", "g2"], ["g3", "g4", "g5"], ["g6"]]
    assert _groups(p, max_results=4, sort_by="Name", sort_order="Descending") == [["g6", "g5", "g4", "g3"],
                                                                               ["g2", "g1", "g0"]]  # fmt: skip
    assert _groups(p, max_results=7) == [["g6", "g5", "g4", "g3", "g2", "g1", "g0"]]  # no token on an exact fit
    assert _groups(p, max_results=2, name_contains="g1") == [["g1"]]


def test_rows_sharing_a_creation_time_are_paged_by_name(clocked):
    p, _ = clocked  # the clock stands still: every group has the same CreationTime
    for name in ("c", "a", "e", "b", "d"):
        p.registry.create_model_package_group(model_package_group_name=name)
    assert _groups(p, max_results=2) == [["a", "b"], ["c", "d"], ["e"]]


def test_a_row_created_between_pages_neither_repeats_nor_hides_the_rest(clocked):
    p, clock = clocked
    _groups_made(p, clock, 4)
    first = p.registry.list_model_package_groups(max_results=2)
    assert [g["ModelPackageGroupName"] for g in first["ModelPackageGroupSummaryList"]] == ["g3", "g2"]
    p.registry.create_model_package_group(model_package_group_name="newest")
    rest = p.registry.list_model_package_groups(max_results=2, next_token=first["NextToken"])
    assert [g["ModelPackageGroupName"] for g in rest["ModelPackageGroupSummaryList"]] == ["g1", "g0"]
    assert "NextToken" not in rest


def test_endpoint_configs_and_model_packages_page_too(clocked):
    p, clock = clocked
    p.storage.create_bucket("models")
    p.storage.put_object("models", "m.tar.gz", b"not read")
    p.registry.create_model_package_group(model_package_group_name="churn")
    for _ in range(5):
        p.registry.create_model_package(model_package_group_name="churn", inference_specification={
            "Containers": [{"Image": "sklearn", "ModelDataUrl": "s3://models/m.tar.gz"}]})  # fmt: skip
        clock.advance(1)
    versions = _pages(p.registry.list_model_packages, "ModelPackageSummaryList", "ModelPackageVersion",
                      model_package_group_name="churn", max_results=2)  # fmt: skip
    assert versions == [[5, 4], [3, 2], [1]]
    p.registry.create_model(model_name="m", primary_container={"Image": "sklearn", "ModelDataUrl": "s3://models/m.tar.gz"})
    for i in range(3):
        p.serving.create_endpoint_config(endpoint_config_name=f"c{i}", production_variants=[{
            "VariantName": "A", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])  # fmt: skip
        clock.advance(1)
    configs = _pages(p.serving.list_endpoint_configs, "EndpointConfigs", "EndpointConfigName", max_results=2)
    assert configs == [["c2", "c1"], ["c0"]]
    models = _pages(p.registry.list_models, "Models", "ModelName", max_results=1)
    assert models == [["m"]]


@pytest.mark.parametrize("token", ["", "not a token", "eyJrIjpbMV19", "WzFd", "x" * 9000, 17])
def test_a_token_that_is_not_one_is_refused_naming_next_token(clocked, token):
    p, _ = clocked
    with pytest.raises(ValidationError) as refused:
        p.registry.list_model_package_groups(next_token=token)
    assert refused.value.field == "NextToken"


def test_a_token_of_another_sort_is_refused(clocked):
    p, clock = clocked
    _groups_made(p, clock, 3)
    token = p.registry.list_model_package_groups(max_results=1)["NextToken"]
    with pytest.raises(ValidationError, match="NextToken is not a token this listing returned"):
        p.registry.list_model_package_groups(max_results=1, sort_by="Name", next_token=token)
    with pytest.raises(ValidationError, match="MaxResults must be a whole number from 1 to 100, got 0"):
        p.registry.list_model_package_groups(max_results=0)


def test_a_token_whose_keys_do_not_fit_the_columns_is_refused(clocked):
    import base64
    import json

    p, clock = clocked
    _groups_made(p, clock, 3)
    token = p.registry.list_model_package_groups(max_results=1)["NextToken"]
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for keys in (["g1", 5], [1e308 * 10, "g1"], [float("nan"), "g1"], [True, "g1"], [2**70, "g1"]):
        forged = base64.urlsafe_b64encode(json.dumps({**payload, "k": keys}).encode()).decode()
        with pytest.raises(ValidationError) as refused:
            p.registry.list_model_package_groups(max_results=1, next_token=forged)
        assert refused.value.field == "NextToken"


def test_collect_follows_the_tokens_past_one_page_and_stops_at_most(clocked):
    from groundfog.core.paging import collect

    p, clock = clocked
    _groups_made(p, clock, 130, "g{:03d}")
    names = [g["ModelPackageGroupName"] for g in collect(p.registry.list_model_package_groups,
                                                         "ModelPackageGroupSummaryList")]  # fmt: skip
    assert names == [f"g{i:03d}" for i in reversed(range(130))]
    assert len(collect(p.registry.list_model_package_groups, "ModelPackageGroupSummaryList", most=105)) == 105
