"""Settings of the worker ``test_worker_broker_outage`` starts: Omni's own, with Redis's
visibility timeout (an hour by default) shortened so the test sees an unacknowledged message
delivered again within seconds."""

from omni.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 8,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
