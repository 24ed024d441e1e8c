import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from omni.core.models import ApiKey
from omni.core.roles import ROLE_PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_create_api_key_prints_the_key_alone_on_the_last_line():
    out = StringIO()
    call_command("create_api_key", "online-shop", "--scopes", "catalog:read,stock:write", stdout=out)

    raw_key = out.getvalue().strip().splitlines()[-1]
    api_key = ApiKey.objects.get(name="online-shop")
    assert api_key.hashed_key == ApiKey.hash(raw_key)
    assert api_key.scopes == ["catalog:read", "stock:write"]
    assert raw_key not in str(ApiKey.objects.values_list())


@pytest.mark.parametrize(
    ("name", "scopes"),
    [("shop", "catalog:read,orders:fly"), ("", "catalog:read"), ("taken", "catalog:read")],
)
def test_create_api_key_refuses_bad_input(name, scopes):
    call_command("create_api_key", "taken", "--scopes", "catalog:read", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_key", name, "--scopes", scopes, stdout=StringIO())
    assert ApiKey.objects.count() == 1


def test_roles_exist_after_migrate_with_their_permissions():
    for role, permissions in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == permissions


def test_roles_grow_from_staff_to_administrator():
    staff, manager, office, admin = ROLE_PERMISSIONS.values()
    assert staff < manager < office < admin


def test_setup_roles_restores_a_changed_group():
    group = Group.objects.get(name="Store staff")
    group.permissions.clear()
    call_command("setup_roles", stdout=StringIO())
    assert group.permissions.count() == len(ROLE_PERMISSIONS["Store staff"])


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x9" * 30 + "-production-like-secret-key-for-the-check",
        "ALLOWED_HOSTS": "omni.example.com",
        "REDIS_URL": "redis://127.0.0.1:6379/1",  # with a broker, the cache the processes share
        "DJANGO_SETTINGS_MODULE": "omni.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DEBUG": "0", "DJANGO_SETTINGS_MODULE": "omni.settings"})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sequence_numbers_never_repeat_under_concurrency():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from omni.core.services import sequence_next

    barrier = threading.Barrier(10)

    def take(_):
        try:
            barrier.wait()
            return [sequence_next("race-test") for _ in range(20)]
        finally:
            connection.close()

    with ThreadPoolExecutor(10) as pool:
        numbers = [n for batch in pool.map(take, range(10)) for n in batch]

    assert len(set(numbers)) == 200


def test_sequence_counts_up_per_name():
    from omni.core.services import sequence_next

    first = sequence_next("alpha")
    assert sequence_next("alpha") == first + 1
    assert sequence_next("beta") >= 1
