"""Settings for the test suite: the real settings, with what only tests may change."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")

from omni.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
# Tests run tasks in-process; the broker itself is exercised by the health check tests.
CELERY_TASK_ALWAYS_EAGER = True
# A key checked in a test stays trusted until the test changes it or ends (conftest forgets them
# all between tests): query counts do not depend on how slow the machine is.
API_KEY_CACHE_SECONDS = 3600
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/minute"}}  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# The read replica as a second connection to the test database (tests/omni/test_replica_router.py);
# the router sends reads there only inside reporting_reads() and outside a primary transaction.
DATABASES = {**DATABASES, "replica": {**DATABASES["default"], "TEST": {"MIRROR": "default"}}}  # noqa: F405
