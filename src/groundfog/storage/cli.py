"""``groundfog storage``: mb, rb, ls, cp, rm, with ``s3://bucket/key`` URIs as in ``aws s3``.

    groundfog storage mb s3://data
    groundfog storage cp train.csv s3://data/raw/
    groundfog storage cp ./images s3://data/images --recursive
    groundfog storage ls s3://data/raw/
    groundfog storage rm s3://data/raw --recursive
"""

from __future__ import annotations

import mimetypes
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from groundfog.cli.common import JsonOption, command, output, parse_json_option, platform
from groundfog.core.errors import ValidationError
from groundfog.core.names import validate_bucket_name

app = typer.Typer(help="Buckets and objects (S3): mb, rb, ls, cp, rm, and bucket notifications.", no_args_is_help=True)

Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Act on every object under the prefix / every file under the directory.")]


def parse_s3_uri(uri: str, argument: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``("bucket", "key")``; the error names the argument."""
    if not uri.startswith("s3://"):
        raise ValidationError(f"{argument} {uri!r} is not an S3 URI: expected s3://BUCKET[/KEY]", field=argument)
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValidationError(f"{argument} {uri!r} names no bucket: expected s3://BUCKET[/KEY]", field=argument)
    validate_bucket_name(bucket, field=argument)
    return bucket, key


def _bucket_only(uri: str, argument: str) -> str:
    bucket, key = parse_s3_uri(uri, argument)
    if key:
        raise ValidationError(f"{argument} {uri!r} names an object; give just s3://BUCKET", field=argument)
    return bucket


def _as_dir(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _walk(storage: Any, bucket: str, prefix: str, delimiter: str | None = None) -> Iterator[Any]:
    """Every page of a listing."""
    token = None
    while True:
        page = storage.list_objects_v2(bucket, prefix=prefix, delimiter=delimiter, continuation_token=token)
        yield page
        if not page.is_truncated:
            return
        token = page.next_continuation_token


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


@app.command("mb")
@command
def mb(uri: Annotated[str, typer.Argument(metavar="s3://BUCKET")], as_json: JsonOption = False) -> None:
    """Make a bucket."""
    bucket = _bucket_only(uri, "BUCKET")
    made = platform().storage.create_bucket(bucket)
    if as_json:
        output(made, as_json=True)
    else:
        typer.echo(f"make_bucket: {bucket}")


@app.command("rb")
@command
def rb(
    uri: Annotated[str, typer.Argument(metavar="s3://BUCKET")],
    force: Annotated[bool, typer.Option("--force", help="Delete every object first.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a bucket (it must be empty, unless --force)."""
    bucket = _bucket_only(uri, "BUCKET")
    storage = platform().storage
    removed = 0
    if force:
        storage.head_bucket(bucket)
        for page in _walk(storage, bucket, ""):
            keys = [o.key for o in page.contents]
            if keys:
                storage.delete_objects(bucket, keys)
                removed += len(keys)
    storage.delete_bucket(bucket)
    if as_json:
        output({"bucket": bucket, "objects_deleted": removed}, as_json=True)
    else:
        typer.echo(f"remove_bucket: {bucket}")


@app.command("ls")
@command
def ls(
    uri: Annotated[str | None, typer.Argument(metavar="[s3://BUCKET[/PREFIX]]")] = None,
    recursive: Recursive = False,
    as_json: JsonOption = False,
) -> None:
    """List buckets, or the objects and folders under a prefix."""
    storage = platform().storage
    if uri is None:
        found = storage.list_buckets()
        if as_json:
            output(found, as_json=True)
        for b in [] if as_json else found:
            typer.echo(f"{_when(b.creation_date)} {b.name}")
        return
    bucket, prefix = parse_s3_uri(uri, "PATH")
    prefixes: list[str] = []
    contents: list[Any] = []
    for page in _walk(storage, bucket, prefix, None if recursive else "/"):
        prefixes.extend(page.common_prefixes)
        contents.extend(page.contents)
    if as_json:
        output({"Bucket": bucket, "Prefix": prefix, "CommonPrefixes": prefixes, "Contents": contents}, as_json=True)
        return
    # Like `aws s3 ls`: names relative to the prefix's folder unless --recursive.
    base = 0 if recursive else prefix.rfind("/") + 1
    for p in prefixes:
        typer.echo(f"{'PRE':>30} {p[base:]}")
    for o in contents:
        typer.echo(f"{_when(o.last_modified)} {o.size:>10} {o.key[base:]}")


@app.command("cp")
@command
def cp(
    src: Annotated[str, typer.Argument(metavar="SRC", help="A local path or s3://BUCKET/KEY.")],
    dst: Annotated[str, typer.Argument(metavar="DST", help="A local path or s3://BUCKET/KEY.")],
    recursive: Recursive = False,
    content_type: Annotated[str | None, typer.Option("--content-type", help="Content-Type of uploads (guessed from the file name otherwise).")] = None,
    metadata: Annotated[str | None, typer.Option("--metadata", help='User metadata as JSON, e.g. \'{"owner": "ml"}\'.')] = None,
    as_json: JsonOption = False,
) -> None:
    """Copy files to, from and between buckets."""
    meta = parse_json_option(metadata, "--metadata")
    src_s3, dst_s3 = src.startswith("s3://"), dst.startswith("s3://")
    if not src_s3 and not dst_s3:
        raise ValidationError(f"cp needs an s3:// source or destination, got {src!r} and {dst!r}", field="SRC")
    storage = platform().storage
    done: list[dict[str, Any]] = []
    if not src_s3:
        _upload(storage, Path(src), *parse_s3_uri(dst, "DST"), recursive, content_type, meta, done)
    elif not dst_s3:
        _download(storage, *parse_s3_uri(src, "SRC"), dst, recursive, done)
    else:
        _copy(storage, *parse_s3_uri(src, "SRC"), *parse_s3_uri(dst, "DST"), recursive, done)
    if as_json:
        output(done, as_json=True)
    else:
        for d in done:
            typer.echo(f"{d['action']}: {d['source']} to {d['destination']}")


def _upload(
    storage: Any, src: Path, bucket: str, key: str, recursive: bool,
    content_type: str | None, metadata: Any, done: list[dict[str, Any]],
) -> None:
    if recursive:
        if not src.is_dir():
            raise ValidationError(f"SRC {str(src)!r} is not a directory (needed with --recursive)", field="SRC")
        files = sorted(p for p in src.rglob("*") if p.is_file())
        pairs = [(p, _as_dir(key) + p.relative_to(src).as_posix()) for p in files]
    else:
        if not src.is_file():
            raise ValidationError(
                f"SRC {str(src)!r} is not a file" + (" (use --recursive for a directory)" if src.is_dir() else ""),
                field="SRC",
            )
        pairs = [(src, key + src.name if key == "" or key.endswith("/") else key)]
    for path, target in pairs:
        ctype = content_type or mimetypes.guess_type(path.name)[0]
        info = storage.put_file(bucket, target, path, content_type=ctype, metadata=metadata)
        done.append({"action": "upload", "source": str(path), "destination": f"s3://{bucket}/{target}", "size": info.size})


def _download(storage: Any, bucket: str, key: str, dst: str, recursive: bool, done: list[dict[str, Any]]) -> None:
    target = Path(dst)
    if recursive:
        prefix = _as_dir(key)
        for page in _walk(storage, bucket, prefix):
            for o in page.contents:
                _save(storage, bucket, o.key, target, target / o.key[len(prefix):], done)
        return
    if not key:
        raise ValidationError(f"SRC s3://{bucket} names no object (use --recursive to copy a bucket)", field="SRC")
    if target.is_dir() or dst.endswith(("/", os.sep)):
        _save(storage, bucket, key, target, target / key.rsplit("/", 1)[-1], done)
    else:
        _save(storage, bucket, key, target.parent, target, done)


def _save(storage: Any, bucket: str, key: str, root: Path, path: Path, done: list[dict[str, Any]]) -> None:
    # Keys are validated (no '..', not absolute), but never write outside the target.
    resolved_root, resolved = root.resolve(), path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise ValidationError(f"key {key!r} would be written outside {str(root)!r}", field="DST")
    result = storage.get_file(bucket, key, path)
    done.append({"action": "download", "source": f"s3://{bucket}/{key}", "destination": str(path), "size": result.size})


def _copy(
    storage: Any, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
    recursive: bool, done: list[dict[str, Any]],
) -> None:
    if recursive:
        prefix = _as_dir(src_key)
        pairs = [
            (o.key, _as_dir(dst_key) + o.key[len(prefix):])
            for page in _walk(storage, src_bucket, prefix)
            for o in page.contents
        ]
    else:
        if not src_key:
            raise ValidationError(f"SRC s3://{src_bucket} names no object (use --recursive)", field="SRC")
        name = src_key.rsplit("/", 1)[-1]
        pairs = [(src_key, dst_key + name if dst_key == "" or dst_key.endswith("/") else dst_key)]
    for source, target in pairs:
        info = storage.copy_object(src_bucket, source, dst_bucket, target)
        done.append(
            {"action": "copy", "source": f"s3://{src_bucket}/{source}", "destination": f"s3://{dst_bucket}/{target}", "size": info.size}
        )


@app.command("rm")
@command
def rm(
    uri: Annotated[str, typer.Argument(metavar="s3://BUCKET/KEY")],
    recursive: Recursive = False,
    as_json: JsonOption = False,
) -> None:
    """Delete an object, or every object under a prefix with --recursive."""
    bucket, key = parse_s3_uri(uri, "PATH")
    storage = platform().storage
    deleted: list[str] = []
    if recursive:
        prefix = _as_dir(key)
        for page in _walk(storage, bucket, prefix):
            keys = [o.key for o in page.contents]
            if keys:
                deleted.extend(storage.delete_objects(bucket, keys).deleted)
    else:
        if not key:
            raise ValidationError(f"PATH {uri!r} names no object (use --recursive to empty a bucket)", field="PATH")
        storage.delete_object(bucket, key)
        deleted.append(key)
    if as_json:
        output([{"action": "delete", "key": f"s3://{bucket}/{k}"} for k in deleted], as_json=True)
    else:
        for k in deleted:
            typer.echo(f"delete: s3://{bucket}/{k}")


@app.command("put-bucket-notification-configuration")
@command
def put_notification(
    bucket: Annotated[str, typer.Option("--bucket", help="The bucket's name.")],
    notification_configuration: Annotated[
        str,
        typer.Option(
            "--notification-configuration",
            help='JSON (or file://path): {"EventBridgeConfiguration": {}} sends every object event to the '
            "default event bus; TopicConfigurations / LambdaFunctionConfigurations deliver directly.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Set where a bucket's object events go (as `aws s3api put-bucket-notification-configuration`)."""
    configuration = parse_json_option(notification_configuration, "--notification-configuration")
    platform().storage.put_bucket_notification_configuration(bucket, configuration)
    output(platform().storage.get_bucket_notification_configuration(bucket), as_json=as_json)


@app.command("get-bucket-notification-configuration")
@command
def get_notification(
    bucket: Annotated[str, typer.Option("--bucket", help="The bucket's name.")],
    as_json: JsonOption = False,
) -> None:
    """Show where a bucket's object events go."""
    output(platform().storage.get_bucket_notification_configuration(bucket), as_json=as_json)
