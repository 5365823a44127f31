"""``python -m examples.chat [--host H] [--port P]``: serve the chat demo."""

from __future__ import annotations

import argparse

import uvicorn

import falcon_pachinko

from .app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    print(f"falcon-pachinko chat demo ({falcon_pachinko.IMPLEMENTATION} implementation)")
    print(f"open http://{args.host}:{args.port}/ in two browser tabs")
    print(f"its AsyncAPI 3.0 document: http://{args.host}:{args.port}/asyncapi.json")
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
