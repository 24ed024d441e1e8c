"""Demo data for trying Omni out: ``manage.py seed_demo``. Every step is idempotent."""
