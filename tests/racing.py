"""Races for the concurrency tests: many threads, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def race(workers: int, action) -> list:
    """Run ``action(i)`` in ``workers`` threads released at the same instant; return outcomes (an
    exception raised is the outcome)."""
    barrier = threading.Barrier(workers)

    def run(i):
        try:
            barrier.wait()
            return action(i)
        except Exception as exc:  # the outcome under test, refusals included
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def race_each(*targets) -> tuple[list[Exception], list]:
    """Run each of ``targets`` (no arguments) in its own thread, all released at once; the
    exceptions raised and the values returned."""
    outcomes = race(len(targets), lambda i: targets[i]())
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    return errors, [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
