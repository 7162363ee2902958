"""Giving each host process its own ``/opt/ml``, so scripts that name SageMaker's paths
literally (``open("/opt/ml/processing/input/data.csv")``) run unchanged.

Where the machine allows it, a host's command runs in a private mount namespace
(``unshare --mount``, with ``--map-root-user`` when groundfog is not root) in which
the host's ``<job dir>/<host>/opt/ml`` is bind-mounted on ``/opt/ml``; nothing outside
the process sees the mount, and it vanishes with the process. Elsewhere the job's
directory stands in for ``/opt/ml``: the ``SM_*`` variables and ``/opt/ml`` arguments
point into it, and only literal paths inside a script would miss.

``GROUNDFOG_OPT_ML=off`` turns the mount off.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

OPT_ML = Path("/opt/ml")
# "$0" is the host's tree; the rest is the command, exec'd so signals reach it directly.
_SHIM = 'mount --bind "$0" /opt/ml && exec "$@"'


def _unshare_argv() -> list[str]:
    argv = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        argv.append("--map-root-user")
    return argv


@functools.cache
def mount_available() -> bool:
    """True if host processes can get a private ``/opt/ml`` on this machine."""
    if os.environ.get("GROUNDFOG_OPT_ML", "").lower() in ("off", "0", "no", "false"):
        return False
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    try:
        OPT_ML.mkdir(parents=True, exist_ok=True)  # an empty mount point; root only
    except OSError:
        if not OPT_ML.is_dir():
            return False
    with tempfile.TemporaryDirectory() as probe:
        (Path(probe) / "marker").write_text("")
        try:
            done = subprocess.run(
                [*_unshare_argv(), "/bin/sh", "-c", _SHIM, probe, "test", "-f", "/opt/ml/marker"],
                capture_output=True,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


def wrap(argv: list[str], host_root: Path) -> list[str]:
    """``argv`` run with ``host_root`` mounted on ``/opt/ml``."""
    return [*_unshare_argv(), "/bin/sh", "-c", _SHIM, str(host_root), *argv]
