"""Who holds a lease: a token naming this process, and whether such a holder still lives.

A lease that names a dead process on this machine can be taken over at once instead of
waiting for it to expire, which is what lets a restarted server pick up the work of one
that was killed with ``kill -9`` straight away.

>>> owner_alive(owner_token())
True
"""

from __future__ import annotations

import os
import socket
import uuid

from groundfog.core.executors import BOOT_ID, process_alive, process_start_ticks

_SEP = "|"
_HOST = socket.gethostname()[:16]


def owner_token() -> str:
    """A token unique to this process (and this call), parseable by ``owner_alive``."""
    pid = os.getpid()
    # Short enough for a 64-character column: a boot id's first 8 hex digits and a
    # host name's first 16 characters tell machines and boots apart well enough here.
    return _SEP.join((_HOST, BOOT_ID[:8], str(pid), str(process_start_ticks(pid) or 0), uuid.uuid4().hex[:8]))


def owner_alive(token: str | None) -> bool | None:
    """False when the holder was a process on this machine, since this boot, that is
    gone; True when it runs; None when this machine cannot tell (another host)."""
    if not token:
        return None
    parts = token.split(_SEP)
    if len(parts) != 5 or not BOOT_ID or parts[1] != BOOT_ID[:8] or parts[0] != _HOST:
        return None
    try:
        pid, ticks = int(parts[2]), int(parts[3])
    except ValueError:
        return None
    return process_alive(pid, ticks or None)
