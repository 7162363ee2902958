import pytest

from groundfog.core.config import Config
from groundfog.core.errors import ValidationError


def test_defaults_derive_from_home(tmp_path):
    c = Config(home=tmp_path)
    assert c.state_url == f"sqlite:///{tmp_path / 'state.db'}"
    assert c.objects_url == str(tmp_path / "objects")
    assert c.executor == "local"


def test_environment_variables_configure_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path))
    monkeypatch.setenv("GROUNDFOG_STATE_URL", "postgresql://postgres@127.0.0.1/x")
    monkeypatch.setenv("GROUNDFOG_OBJECTS_URL", "s3://bucket/prefix")
    monkeypatch.setenv("GROUNDFOG_OBJECTS_OPTIONS", '{"endpoint_url": "http://127.0.0.1:9000"}')
    c = Config.from_env()
    assert c.home == tmp_path.resolve()
    assert c.state_url.startswith("postgresql://")
    assert c.objects_url == "s3://bucket/prefix"
    assert c.objects_options == {"endpoint_url": "http://127.0.0.1:9000"}


def test_config_file_is_read_and_env_wins(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('executor = "local"\nobjects_url = "/data/objects"\n')
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path))
    monkeypatch.setenv("GROUNDFOG_OBJECTS_URL", "/elsewhere")
    assert Config.from_env().objects_url == "/elsewhere"


def test_unknown_setting_in_config_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('exector = "local"\n')
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path))
    with pytest.raises(ValidationError, match="unknown setting 'exector'"):
        Config.from_env()


def test_bad_executor_and_bad_options_are_refused(tmp_path, monkeypatch):
    with pytest.raises(ValidationError, match="executor"):
        Config(home=tmp_path, executor="slurm")
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path))
    monkeypatch.setenv("GROUNDFOG_OBJECTS_OPTIONS", "{not json")
    with pytest.raises(ValidationError, match="GROUNDFOG_OBJECTS_OPTIONS"):
        Config.from_env()
