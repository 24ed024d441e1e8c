"""Database routers (``DATABASE_ROUTERS``)."""

from django.db import DEFAULT_DB_ALIAS

from omni.core.db import REPLICA, reporting_alias


class ReportingReplicaRouter:
    """Reads inside ``omni.core.db.reporting_reads()`` go to the read replica when one is
    configured; everything else (every write, every other read, migrations) to the primary."""

    def db_for_read(self, model, **hints):
        return reporting_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
