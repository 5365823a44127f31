"""Names the published ``falcon_pachinko.router`` module exported.

Kept apart so ``router.py`` only has to re-export them: ``ResourceFactory``
(the router's ``resource_factory`` type, defined in ``di``),
``SimulatorFactory`` (the router's ``simulator_factory`` type) and
``compile_uri_template`` (a template as one regular expression, for code
that matched paths itself). The router does not use the regex: it matches
with Falcon's compiled router so converters behave as in HTTP routes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from .di import ResourceFactory

__all__ = ["ResourceFactory", "SimulatorFactory", "compile_uri_template"]

#: ``simulator_factory(req, ws)`` returns the socket to serve (or an awaitable of it).
SimulatorFactory = Callable[[Any, Any], Any | Awaitable[Any]]

_FIELD = re.compile(r"{([^}]*)}")


def compile_uri_template(template: str) -> re.Pattern[str]:
    """``template`` as an anchored regex; each ``{name}`` (or ``{name:conv}``)
    becomes a named group of one path segment, a trailing ``/`` is optional.

    Raises
    ------
    ValueError
        A field without a name (``{}``), as published.
    TypeError
        ``template`` is not a ``str``.
    """
    if not isinstance(template, str):
        raise TypeError("template must be a str")
    out: list[str] = []
    pos = 0
    for match in _FIELD.finditer(template.rstrip("/")):
        name = match.group(1).split(":", 1)[0].strip()
        if not name:
            raise ValueError(f"Empty parameter name in template: {template}")
        if not name.isidentifier():
            raise ValueError(f"Invalid parameter name {name!r} in template: {template}")
        out.append(re.escape(match.string[pos : match.start()]))
        out.append(f"(?P<{name}>[^/]+)")
        pos = match.end()
    out.append(re.escape(template.rstrip("/")[pos:]))
    return re.compile("^" + "".join(out) + "/?$")
