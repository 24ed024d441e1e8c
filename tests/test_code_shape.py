"""The shape the architecture asks of the code (docs/architecture.md): modules small enough to
hold one idea, services as steps a reader can follow, and no module reaching into another's
private helpers. The layering itself is import-linter's contract (pyproject.toml, ``make lint``)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["omni", "customers", "inventory", "loyalty", "orders", "tests", "bench"]
MAX_MODULE_LINES = 800
MAX_SERVICE_LINES = 80
SERVICE_PACKAGES = ["orders/services", "loyalty/services"]

LONG_MODULES = {
    # One command that writes a retailer's year of data at the speed of COPY: its generators share
    # one in-memory catalogue and one numbering, and read best top to bottom.
    "omni/reports/management/commands/generate_load_data.py": "the load generator",
}


def python_files(*folders: str):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def long_modules() -> dict[str, int]:
    found = {}
    for path in python_files(*PACKAGES):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            found[name(path)] = lines
    return found


def test_no_module_is_over_800_lines_unless_it_says_why():
    unexplained = {module: lines for module, lines in long_modules().items() if module not in LONG_MODULES}
    assert not unexplained, f"split these modules, or say in LONG_MODULES why one stays whole: {unexplained}"


def test_every_module_said_to_be_long_still_is():
    shorter = sorted(module for module in LONG_MODULES if module not in long_modules())
    assert not shorter, f"no longer over {MAX_MODULE_LINES} lines, drop them from LONG_MODULES: {shorter}"


def test_no_service_function_is_over_80_lines():
    long_functions = []
    for path in python_files(*SERVICE_PACKAGES):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_SERVICE_LINES:
                    long_functions.append(f"{name(path)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long_functions, "cut these into named steps: " + "; ".join(long_functions)


def test_no_module_imports_another_modules_private_helper():
    private_imports = []
    for path in python_files("omni", "customers", "inventory", "loyalty", "orders"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private_imports.append(f"{name(path)}:{node.lineno} {node.module}.{alias.name}")
    assert not private_imports, "make these public under a name that says what they do: " + "; ".join(private_imports)
