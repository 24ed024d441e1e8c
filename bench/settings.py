"""The real settings, with the benchmarks' empty endpoint added to the URLs (``bench.urls``)."""

from omni.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
