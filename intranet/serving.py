"""What the serving model asks of the code. Under gunicorn's gevent worker (intranet/gunicorn_conf.py)
every request is a greenlet on one thread, so a long call into C that never yields — argon2's
password hashing takes tens of milliseconds by design — would stall every page and live stream of
the process meanwhile. Such calls go through ``off_loop``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def off_loop(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` on gevent's pool of native threads when the process is gevent-patched (argon2-cffi
    releases the GIL, so the other greenlets go on); a plain call otherwise."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(call, args)
    return call(*args)
