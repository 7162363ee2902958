"""A script's ``requirements.txt``, installed once into a cached environment.

As the SageMaker training toolkit does, a ``requirements.txt`` at the top of the source
directory is installed before the script runs. Here it goes into a virtual environment
that sees the platform's own packages (``--system-site-packages``), keyed by the file's
content and the Python version, so the second job with the same file starts at once.
Installs use pip's configuration (index, find-links), so an offline machine installs
from what lies on its disk.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import site
import subprocess
import sys
from pathlib import Path

from groundfog.core.errors import ValidationError

_READY = ".groundfog-ready"


def environment_for(requirements: Path, envs_dir: Path, log: Path) -> Path:
    """The Python interpreter of an environment with ``requirements`` installed.

    Raises ``ValidationError`` (field ``requirements.txt``) with pip's last lines when
    the install fails; a failed environment is removed, so a fixed file tries again.
    """
    digest = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    env_dir = envs_dir / digest
    python = env_dir / "bin" / "python"
    envs_dir.mkdir(parents=True, exist_ok=True)
    with open(envs_dir / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install per environment, even across processes
        if (env_dir / _READY).exists():
            return python
        shutil.rmtree(env_dir, ignore_errors=True)
        with open(log, "ab") as out:
            out.write(f"Installing {requirements.name} into {env_dir}\n".encode())
            out.flush()
            steps = [
                [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)],
                [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "-r", str(requirements)],
            ]
            for i, step in enumerate(steps):
                if i == 1:
                    _see_platform_packages(env_dir)
                done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, cwd=requirements.parent)
                if done.returncode != 0:
                    shutil.rmtree(env_dir, ignore_errors=True)
                    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                    raise ValidationError(
                        f"requirements.txt could not be installed: {' / '.join(tail)}", field="requirements.txt"
                    )
        (env_dir / _READY).write_text(digest)
    return python


def _see_platform_packages(env_dir: Path) -> None:
    # --system-site-packages reaches the base interpreter's packages only; when the
    # platform itself runs in a virtual environment, its packages (pandas, torch...)
    # must be visible too, after the environment's own.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = env_dir / "lib" / version / "site-packages"
    target.mkdir(parents=True, exist_ok=True)
    (target / "groundfog-platform.pth").write_text("\n".join(site.getsitepackages()) + "\n")
