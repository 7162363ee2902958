"""Configuration: where state, objects and compute live.

Read from environment variables (``GROUNDFOG_*``), optionally from
``$GROUNDFOG_HOME/config.toml``; explicit arguments win over both.

>>> Config(home="/tmp/gf").state_url
'sqlite:////tmp/gf/state.db'
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from groundfog.core.errors import ValidationError

DEFAULT_PORT = 8750
_ENV = {
    "home": "GROUNDFOG_HOME",
    "state_url": "GROUNDFOG_STATE_URL",
    "objects_url": "GROUNDFOG_OBJECTS_URL",
    "executor": "GROUNDFOG_EXECUTOR",
    "api_token": "GROUNDFOG_API_TOKEN",
    "objects_options": "GROUNDFOG_OBJECTS_OPTIONS",
    "fsync": "GROUNDFOG_FSYNC",
    "spot_interruptions": "GROUNDFOG_SPOT_INTERRUPTIONS",
    "max_invocation_bytes": "GROUNDFOG_MAX_INVOCATION_BYTES",
    "invocation_timeout": "GROUNDFOG_INVOCATION_TIMEOUT",
}
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Config:
    """Everything a ``Platform`` needs to know to wire itself up."""

    home: Path = field(default_factory=lambda: Path("~/.groundfog").expanduser())
    state_url: str = ""
    objects_url: str = ""
    executor: str = "local"
    api_token: str | None = None
    # fsspec storage options for a remote objects_url (endpoint_url, key, secret, ...).
    objects_options: dict = field(default_factory=dict)
    max_event_bytes: int = 256 * 1024
    # SageMaker Runtime's limits on one real-time invocation: 6 MB payload, 60 s.
    max_invocation_bytes: int = 6 * 1024 * 1024
    invocation_timeout: float = 60.0
    # Survive power loss, not only a killed process: fsync every object and commit.
    # Off by default, as with SQLite's synchronous=NORMAL in WAL mode.
    fsync: bool = False
    # When managed spot training loses its instances (JSON in the environment):
    # {"RatePerHour": 0.5, "Seed": 7} or {"Schedule": [seconds of training, ...]}.
    spot_interruptions: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        if not self.state_url:
            object.__setattr__(self, "state_url", f"sqlite:///{home / 'state.db'}")
        if not self.objects_url:
            object.__setattr__(self, "objects_url", str(home / "objects"))
        if self.executor not in EXECUTORS and not self.executor.startswith("ray://"):
            raise ValidationError(
                f"executor must be one of {', '.join(EXECUTORS)} or a ray:// address, got {self.executor!r}",
                field="GROUNDFOG_EXECUTOR",
            )

    @classmethod
    def from_env(cls, **overrides: object) -> "Config":
        """Build from ``GROUNDFOG_*`` variables and ``$GROUNDFOG_HOME/config.toml``."""
        values: dict[str, object] = {}
        home = overrides.get("home") or os.environ.get("GROUNDFOG_HOME")
        home_path = Path(str(home)).expanduser() if home else Path("~/.groundfog").expanduser()
        config_file = home_path / "config.toml"
        if config_file.is_file():
            try:
                values.update(tomllib.loads(config_file.read_text()))
            except tomllib.TOMLDecodeError as exc:
                raise ValidationError(f"{config_file}: {exc}", field=str(config_file)) from None
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValidationError(
                    f"{config_file}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}",
                    field=str(config_file),
                )
        for name, var in _ENV.items():
            if os.environ.get(var):
                values[name] = os.environ[var]
        if isinstance(values.get("fsync"), str):
            values["fsync"] = str(values["fsync"]).lower() in ("1", "true", "yes", "on")
        for name, kind in (("max_invocation_bytes", int), ("invocation_timeout", float)):
            if isinstance(values.get(name), str):
                try:
                    values[name] = kind(str(values[name]))
                except ValueError:
                    raise ValidationError(f"{_ENV[name]} must be a number, got {values[name]!r}",
                                          field=_ENV[name]) from None  # fmt: skip
        for name in ("spot_interruptions", "objects_options"):  # JSON objects in the environment
            if isinstance(values.get(name), str):
                try:
                    values[name] = json.loads(str(values[name]))
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"{_ENV[name]} is not JSON: {exc}", field=_ENV[name]) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["home"] = home_path if "home" not in values else values["home"]
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The ``GROUNDFOG_*`` variables that rebuild this configuration in another process."""
        env = {}
        for name, var in _ENV.items():
            value = getattr(self, name)
            if value is None or value == {} or value is False:
                continue
            env[var] = json.dumps(value) if isinstance(value, dict) else "1" if value is True else str(value)
        return env

    def with_(self, **changes: object) -> "Config":
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"
