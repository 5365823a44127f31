"""``python -m examples.chat [--host H] [--port P] [--redis URL]``: serve the chat demo.

With ``--redis URL`` (or ``FALCON_PACHINKO_REDIS=URL``) the rooms are shared
through Redis: start two of these on different ports and chat across them.
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

import falcon_pachinko

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--redis", default=os.environ.get("FALCON_PACHINKO_REDIS"))
    args = parser.parse_args()
    # The library logs through ``falcon_pachinko.*`` loggers: give them a
    # level and a format like uvicorn's own lines.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    backend = None
    if args.redis:
        from falcon_pachinko.backends.redis import RedisBackend

        backend = RedisBackend(args.redis, channel_prefix="chat-demo")
        print(f"rooms shared through Redis at {args.redis}")
    print(f"falcon-pachinko chat demo ({falcon_pachinko.IMPLEMENTATION} implementation)")
    print(f"open http://{args.host}:{args.port}/ in two browser tabs")
    print(f"its AsyncAPI 3.0 document: http://{args.host}:{args.port}/asyncapi.json")
    uvicorn.run(create_app(backend), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
