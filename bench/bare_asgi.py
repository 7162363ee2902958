"""The floor for an HTTP model server: a raw ASGI callable, no framework, serving one
scikit-learn model on ``POST /invocations`` with the worker's own CSV codec.

    python -m bench.bare_asgi --model model.joblib --port 0 --ready-file F

It decodes the body with ``groundfog.serving.worker.codecs.decode_csv`` (the decoder the
worker uses), calls ``model.predict`` and answers ``text/csv`` through
``codecs.encode_csv``: the same bytes in and out as groundfog's worker, without its
handler chain, routing or error handling. uvicorn runs it exactly as it runs the worker
(uvloop, httptools, no access log, no server or date header), on one socket bound before
the model loads; once it listens, ``{"port": N, "pid": P}`` goes to the ready file.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from pathlib import Path
from typing import Any

_HEADERS = [(b"content-type", b"text/csv")]


def create_app(model: Any):
    from groundfog.serving.worker.codecs import decode_csv, encode_csv

    predict = model.predict

    async def app(scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body", False):
            message = await receive()
            body += message.get("body", b"")
        answer = encode_csv(predict(decode_csv(body)))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    return app


def main() -> None:
    import joblib
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.bare_asgi", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a joblib file holding the model")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", required=True, type=Path)
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    app = create_app(joblib.load(args.model))
    config = uvicorn.Config(app, loop="uvloop", http="httptools", lifespan="off", access_log=False,
                            log_level="warning", server_header=False, date_header=False, timeout_keep_alive=120)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            tmp = args.ready_file.with_name(args.ready_file.name + ".tmp")
            tmp.write_text(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}))
            os.replace(tmp, args.ready_file)

    Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
