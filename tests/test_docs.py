"""docs/architecture.md names the function where each rule lives: every name it gives exists."""

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
APPS = ("omni", "customers", "inventory", "loyalty", "orders")


def named_objects() -> list[str]:
    prefixes = "|".join(APPS)
    names = re.findall(rf"`((?:{prefixes})\.[\w.]+)`", ARCHITECTURE)
    return sorted({name.rstrip(".") for name in names})


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_every_function_the_architecture_names_exists():
    names = named_objects()
    assert len(names) > 40
    missing = [name for name in names if not resolves(name)]
    assert not missing, f"docs/architecture.md names what the code no longer has: {missing}"


def test_the_readme_points_to_the_architecture():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
