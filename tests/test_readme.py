"""The README is the newcomer's manual: its configuration table is whole and complete, and the
documents it points to are in the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_the_configuration_table_is_one_table_naming_every_setting_read_from_the_environment():
    lines = section("Configuration").splitlines()
    rows = [number for number, line in enumerate(lines) if line.startswith("|")]
    assert rows == list(range(rows[0], rows[-1] + 1)), "a blank or stray line splits the configuration table"
    table = "\n".join(lines[rows[0] : rows[-1] + 1])

    settings_source = (ROOT / "omni" / "settings.py").read_text()
    read = set(
        re.findall(
            r'(?:os\.environ\.get|env_bool|env_list|env_int|env_decimal)\(\s*"([A-Z][A-Z0-9_]+)"', settings_source
        )
    )
    assert len(read) > 30
    missing = sorted(name for name in read if f"`{name}`" not in table)
    assert not missing, f"settings read from the environment but not in the README's table: {missing}"


def test_the_readme_points_only_to_documents_in_the_repository():
    assert "../" not in README, "a newcomer has the repository, not what is beside it"
    for path in re.findall(r"`((?:docs|bench)/[\w./-]+\.md)`", README):
        assert (ROOT / path).is_file(), f"README points to {path}, which does not exist"
    assert "docs/design.md" in README
