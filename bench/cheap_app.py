"""The app as served, but with cheap password hashes: the seed's accounts are made with them, and sign-ins
would otherwise upgrade each member's hash to argon2's full cost, which is not what the benchmarks measure."""

from argon2 import PasswordHasher

import intranet.models as models

models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

from wsgi import app  # noqa: E402  (after the hasher, which the app's sign-in reads)

__all__ = ["app"]
