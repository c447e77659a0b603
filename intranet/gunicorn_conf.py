"""Gunicorn settings for serving the app: `gunicorn -c intranet/gunicorn_conf.py wsgi:app` (`make run`).

One gevent worker: every connection is a greenlet, so open live streams (intranet/live.py) never take
the places that serve pages, as a fixed pool of threads would. The app is checked to be correct under
gevent's monkey-patching, which the worker applies before it loads the app: psycopg 3 waits on
patched sockets, redis-py is pure-Python sockets, the live bus's locks, queues and events become
greenlet-aware, and Flask-SQLAlchemy's session follows the app context (a context variable, per
greenlet). SQLite calls run to completion without yielding, and a write transaction does no network
I/O before its commit (publishing and mail wait for the commit), so greenlets never wait on each
other inside SQLite.

Overridable from the environment: INTRANET_BIND (default 127.0.0.1:5000), INTRANET_WORKERS (1; with
several, set REDIS_URL so every worker's streams see every worker's events) and
INTRANET_WORKER_CONNECTIONS. Keep LIVE_STREAMS_PER_PROCESS well under the worker's connections, so
pages and polls always find room.
"""

from __future__ import annotations

import os
import resource

from intranet import logs, metrics

bind = os.environ.get("INTRANET_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("INTRANET_WORKERS", "1"))
worker_class = "gevent"
# Streams (capped by LIVE_STREAMS_PER_PROCESS), pollers' kept-alive connections and page loads.
worker_connections = int(os.environ.get("INTRANET_WORKER_CONNECTIONS", "4000"))
# Longer than the 2 s poll interval: a polling page keeps its connection instead of reopening it.
keepalive = 75
# A worker that stops answering gunicorn's heartbeat for this long is replaced.
timeout = 60
# Open streams do not end by themselves: on a restart they are cut after this and the browsers reconnect.
graceful_timeout = 5
backlog = 2048
accesslog = "-"
# No client address or browser in the access log: with the time of a POST they would name the author of
# an anonymous question (docs/security/anonymity.md).
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
# gunicorn's own lines and access lines in the app's format (text or JSON), with the request id.
logconfig_dict = logs.gunicorn_logconfig_dict(
    os.environ.get("INTRANET_LOG_FORMAT", "text"), os.environ.get("INTRANET_LOG_LEVEL", "INFO")
)
# With several workers and PROMETHEUS_MULTIPROC_DIR: a dead worker's live-stream gauge is forgotten.
child_exit = metrics.child_exit
# Recent gunicorn's admin socket defaults to one path per system user: servers side by side would share it.
control_socket_disable = True


def on_starting(server) -> None:
    """Each open stream is a socket: raise the open-file limit to what the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = worker_connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )
