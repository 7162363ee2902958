"""``groundfog storage`` mb/rb/ls/cp/rm with ``s3://`` URIs, like ``aws s3``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from groundfog.cli import common
from groundfog.core.config import Config
from groundfog.platform import Platform
from groundfog.storage.cli import app


class _Kept:
    """The test's platform, handed to each command; commands 'close' it after running."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

    def close(self) -> None:
        pass


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Any]:
    platform = Platform(Config(home=tmp_path / "home"))
    runner = CliRunner()

    def run(*args: str) -> Any:
        common._platform = _Kept(platform)
        return runner.invoke(app, list(args))

    run.platform = platform  # type: ignore[attr-defined]
    try:
        yield run
    finally:
        common._platform = None
        platform.close()


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result.stdout


def test_mb_cp_ls_rm_rb_round_trip(cli: Any, tmp_path: Path) -> None:
    assert ok(cli("mb", "s3://data")) == "make_bucket: data\n"
    src = tmp_path / "train.csv"
    src.write_text("a,b\n1,2\n")
    assert ok(cli("cp", str(src), "s3://data/raw/")) == f"upload: {src} to s3://data/raw/train.csv\n"
    head = cli.platform.storage.head_object("data", "raw/train.csv")
    assert head.content_type == "text/csv"  # guessed from the name, as aws s3 cp does

    tree = tmp_path / "images"
    (tree / "cats").mkdir(parents=True)
    (tree / "cats" / "1.png").write_bytes(b"\x89PNG cat")
    (tree / "dog.png").write_bytes(b"\x89PNG dog")
    out = ok(cli("cp", str(tree), "s3://data/images", "--recursive"))
    assert out.splitlines() == [
        f"upload: {tree / 'cats' / '1.png'} to s3://data/images/cats/1.png",
        f"upload: {tree / 'dog.png'} to s3://data/images/dog.png",
    ]

    listing = ok(cli("ls", "s3://data/")).splitlines()
    assert [line.split()[-1] for line in listing] == ["images/", "raw/"]
    assert listing[0].split()[0] == "PRE"
    objects = ok(cli("ls", "s3://data/images/")).splitlines()
    assert objects[0].split() == ["PRE", "cats/"] and objects[1].split()[-2:] == ["8", "dog.png"]
    everything = ok(cli("ls", "s3://data", "--recursive")).splitlines()
    assert [line.split()[-1] for line in everything] == ["images/cats/1.png", "images/dog.png", "raw/train.csv"]
    buckets = ok(cli("ls")).splitlines()
    assert len(buckets) == 1 and buckets[0].endswith(" data")

    out_dir = tmp_path / "download"
    ok(cli("cp", "s3://data/images", str(out_dir), "--recursive"))
    assert (out_dir / "cats" / "1.png").read_bytes() == b"\x89PNG cat"
    assert (out_dir / "dog.png").read_bytes() == b"\x89PNG dog"
    ok(cli("cp", "s3://data/raw/train.csv", str(out_dir) + "/"))
    assert (out_dir / "train.csv").read_text() == "a,b\n1,2\n"
    ok(cli("cp", "s3://data/raw/train.csv", str(tmp_path / "renamed.csv")))
    assert (tmp_path / "renamed.csv").read_text() == "a,b\n1,2\n"

    assert ok(cli("cp", "s3://data/raw/train.csv", "s3://data/backup/")) == "copy: s3://data/raw/train.csv to s3://data/backup/train.csv\n"
    ok(cli("cp", "s3://data/images", "s3://data/images-copy", "--recursive"))
    assert cli.platform.storage.get_object_bytes("data", "images-copy/cats/1.png") == b"\x89PNG cat"

    assert ok(cli("rm", "s3://data/backup/train.csv")) == "delete: s3://data/backup/train.csv\n"
    assert len(ok(cli("rm", "s3://data/images-copy", "--recursive")).splitlines()) == 2

    refused = cli("rb", "s3://data")
    assert refused.exit_code == 4
    assert refused.stderr == "error: bucket 'data' is not empty (3 objects); delete its objects first\n"
    assert ok(cli("rb", "s3://data", "--force")) == "remove_bucket: data\n"
    assert cli.platform.storage.list_buckets() == []


def test_every_command_speaks_json(cli: Any, tmp_path: Path) -> None:
    assert json.loads(ok(cli("mb", "s3://data", "--json")))["Name"] == "data"
    src = tmp_path / "a.txt"
    src.write_text("hi")
    [upload] = json.loads(ok(cli("cp", str(src), "s3://data/a.txt", "--json", "--metadata", '{"owner": "me"}')))
    assert upload == {"action": "upload", "source": str(src), "destination": "s3://data/a.txt", "size": 2}
    assert cli.platform.storage.head_object("data", "a.txt").metadata == {"owner": "me"}
    listing = json.loads(ok(cli("ls", "s3://data", "--json")))
    assert [o["Key"] for o in listing["Contents"]] == ["a.txt"] and listing["CommonPrefixes"] == []
    assert [b["Name"] for b in json.loads(ok(cli("ls", "--json")))] == ["data"]
    assert json.loads(ok(cli("rm", "s3://data/a.txt", "--json"))) == [{"action": "delete", "key": "s3://data/a.txt"}]
    assert json.loads(ok(cli("rb", "s3://data", "--json"))) == {"bucket": "data", "objects_deleted": 0}


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["mb", "data"], 2, "BUCKET 'data' is not an S3 URI: expected s3://BUCKET[/KEY]"),
        (["mb", "s3://Bad_Name"], 2, "Bucket name 'Bad_Name'"),
        (["mb", "s3://data/key"], 2, "names an object"),
        (["ls", "s3://"], 2, "names no bucket"),
        (["cp", "a.txt", "b.txt"], 2, "cp needs an s3:// source or destination"),
        (["cp", "missing.txt", "s3://data/x"], 2, "SRC 'missing.txt' is not a file"),
        (["cp", "s3://data/nope", "out.txt"], 3, "no object 'nope' in bucket 'data'"),
        (["cp", "s3://nowhere/x", "out.txt"], 3, "bucket 'nowhere' does not exist"),
        (["rm", "s3://data"], 2, "names no object"),
        (["rm", "s3://data/../etc"], 2, "'..' path segment"),
        (["cp", "--metadata", "{not json", "x", "s3://data/x"], 2, "--metadata is not valid JSON"),
    ],
)
def test_errors_exit_non_zero_with_one_line(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, fragment: str) -> None:
    monkeypatch.chdir(tmp_path)
    cli.platform.storage.create_bucket("data")
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.txt").exists()


def test_commands_build_the_platform_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GROUNDFOG_URL", "GROUNDFOG_STATE_URL", "GROUNDFOG_OBJECTS_URL", "GROUNDFOG_OBJECTS_OPTIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GROUNDFOG_HOME", str(tmp_path / "gfhome"))
    runner = CliRunner()
    assert runner.invoke(app, ["mb", "s3://from-env"]).exit_code == 0
    assert runner.invoke(app, ["ls"]).stdout.split()[-1] == "from-env"
    assert (tmp_path / "gfhome" / "objects" / "from-env").is_dir()
