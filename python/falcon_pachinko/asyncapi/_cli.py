"""``python -m falcon_pachinko asyncapi module:app``: print the AsyncAPI document.

A bad target (no ``:``, a module that does not import, a missing attribute,
a factory that raises or returns something that is not an app or router)
is a usage error: a one-line message on stderr and exit status 2, the same
status argparse uses for bad options. Documentation warnings go to stderr
and do not change the status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Any, TextIO

from ..router import WebSocketRouter
from . import build_document, to_json, to_yaml

__all__ = ["TargetError", "load_target", "main"]

USAGE_ERROR = 2


class TargetError(ValueError):
    """The ``module:attribute`` target cannot be turned into an app or routers."""


def _is_documentable(obj: Any) -> bool:
    if isinstance(obj, WebSocketRouter):
        return True
    if isinstance(obj, list | tuple):
        return bool(obj) and all(isinstance(r, WebSocketRouter) for r in obj)
    return hasattr(obj, "add_sink") and hasattr(obj, "add_route")


def load_target(spec: str) -> Any:
    """Import ``module:attr`` (``attr`` may be dotted); call it if it is a factory."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"target {spec!r} must look like 'module:app' or 'module:create_app'")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is the target's
        raise TargetError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from None
    if _is_documentable(obj):
        return obj
    if not callable(obj):
        raise TargetError(f"{spec} is a {type(obj).__name__}, not a Falcon app or a factory")
    try:
        made = obj()
    except Exception as exc:  # a user factory may raise anything
        raise TargetError(f"calling {spec}() failed: {type(exc).__name__}: {exc}") from exc
    if not _is_documentable(made):
        raise TargetError(
            f"{spec}() returned a {type(made).__name__}, not a Falcon app or a WebSocketRouter"
        )
    return made


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m falcon_pachinko")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "asyncapi",
        help="print the AsyncAPI 3.0 document of an app's WebSocket routers",
        description="Print the AsyncAPI 3.0 document of a Falcon app's WebSocket routers.",
    )
    cmd.add_argument("target", help="module:app (an app or router) or module:create_app (factory)")
    cmd.add_argument("--format", choices=("json", "yaml"), default="json")
    cmd.add_argument("--title", default="WebSocket API", help="info.title")
    cmd.add_argument("--version", default="1.0.0", help="info.version (the API's version)")
    cmd.add_argument("--description", default=None, help="info.description")
    return parser


def main(
    argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI; returns the exit status."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            target = load_target(args.target)
        except TargetError as exc:
            print(f"error: {exc}", file=err)
            return USAGE_ERROR
        document = build_document(
            target, title=args.title, version=args.version, description=args.description
        )
    for warning in caught:
        print(f"warning: {warning.message}", file=err)
    try:
        text = to_yaml(document) if args.format == "yaml" else to_json(document)
    except ImportError as exc:
        print(f"error: {exc}", file=err)
        return USAGE_ERROR
    out.write(text)
    return 0
