"""Every user-facing string has a Russian translation, and the committed .mo files are current.

Runs ``makemessages`` on a copy of the sources, so a new untranslated string fails here rather
than reaching a Russian-speaking cashier as English.
"""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["omni", "inventory", "customers", "loyalty", "orders"]

needs_gettext = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext, msgfmt)")


def has_strings(app: str) -> bool:
    return any("gettext" in path.read_text() for path in (ROOT / app).rglob("*.py"))


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("src")
    for name in [*APPS, "templates", "manage.py", "tests"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, copy / name)
    for app in APPS:
        if has_strings(app):
            (copy / app / "locale").mkdir(exist_ok=True)
            subprocess.run(
                [sys.executable, "../manage.py", "makemessages", "-l", "ru", "--no-location", "--no-obsolete"],
                cwd=copy / app,
                check=True,
                capture_output=True,
                env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "omni.settings"},
            )
    return copy


@needs_gettext
@pytest.mark.parametrize("app", APPS)
def test_every_string_is_translated_to_russian(app, fresh_catalogues):
    if not has_strings(app):
        pytest.skip(f"{app} has no translatable strings yet")
    po = fresh_catalogues / app / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", str(po)], capture_output=True, text=True, check=True).stdout
    missing = [line for line in untranslated.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    assert not missing, f"{app}: untranslated strings (run `make messages` and translate):\n" + "\n".join(missing)
    assert not fuzzy.strip(), f"{app}: fuzzy translations left in the catalogue:\n{fuzzy}"


@needs_gettext
@pytest.mark.parametrize("app", APPS)
def test_compiled_catalogue_matches_its_source(app, tmp_path):
    po = ROOT / app / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    if not po.exists():
        pytest.skip(f"{app} has no catalogue yet")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True)
    committed = po.with_suffix(".mo")
    with fresh.open("rb") as a, committed.open("rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog, (
            f"{committed} is stale: run `make messages`"
        )
