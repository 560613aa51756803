"""Developer tooling (sample data, the Word-template builder, the demo) stays out of the runtime path."""

import ast
import subprocess
import sys
import tomllib

from setuptools import find_packages

from tests.conftest import REPO

DEVTOOLS = "processor.devtools"
# The one runtime place allowed to reach the tooling: `thidua demo`, importing it when the command runs.
LAZY_DEVTOOLS_IMPORTERS = {"processor/cli.py"}


def _runtime_modules() -> list[str]:
    names = []
    for path in sorted((REPO / "processor").rglob("*.py")):
        relative = path.relative_to(REPO).with_suffix("")
        if relative.parts[:2] == ("processor", "devtools") or relative.name == "__main__":
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        names.append(".".join(parts))
    return names


def test_runtime_modules_do_not_load_devtools():
    modules = _runtime_modules()
    assert {"processor.cli", "processor.pipeline", "processor.render.decision_docs"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "from processor.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit: pass\n"
        f"print('LOADED', sorted(m for m in sys.modules if m.startswith({DEVTOOLS!r})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout, proc.stdout


def test_runtime_code_imports_devtools_only_for_the_demo_command():
    """Imports inside functions escape the sys.modules check above; read every runtime module's imports."""
    found = {}
    for path in sorted((REPO / "processor").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith("processor/devtools/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == DEVTOOLS or name.startswith(DEVTOOLS + ".") for name in names):
                found.setdefault(relative, []).append(node.lineno)
    assert set(found) == LAZY_DEVTOOLS_IMPORTERS, found
    cli_tree = ast.parse((REPO / "processor" / "cli.py").read_text(encoding="utf-8"))
    top_level = [n for n in cli_tree.body if isinstance(n, ast.ImportFrom | ast.Import)]
    assert not any((getattr(n, "module", "") or "").startswith(DEVTOOLS) for n in top_level)


def test_installed_package_includes_devtools_and_templates():
    """`thidua demo` from `pip install .`: the package discovery of pyproject.toml finds the tooling, and
    the package data holds the committed templates the demo workspace copies."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = find_packages(where=str(REPO), **setuptools["packages"]["find"])
    assert DEVTOOLS in packages and "processor.render" in packages
    data = setuptools["package-data"]["processor"]
    templates = sorted((REPO / "processor" / "data" / "templates").iterdir())
    assert templates
    for path in templates:
        relative = path.relative_to(REPO / "processor")
        assert any(relative.match(pattern) for pattern in data), relative
