"""``python -m falcon_pachinko COMMAND``: developer commands.

``asyncapi module:app [--format json|yaml]`` prints the AsyncAPI 3.0
document generated from the app's WebSocket routers.
"""

from __future__ import annotations

import sys

from .asyncapi._cli import main

if __name__ == "__main__":
    sys.exit(main())
