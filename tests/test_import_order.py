"""The import order between domains is a contract (pyproject.toml, checked by lint-imports in make test).
An import of the app inside a function hides a dependency from that check and from a reader, so it
is allowed only with a comment saying why it is imported there (on the line itself or the line above,
naming the import or the cycle it avoids; a comment about something else does not count)."""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def _imports_of_the_app_inside_functions() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] if not node.level else ["app"]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                if not any(n == "app" or n.startswith("app.") for n in names):
                    continue
                here = lines[node.lineno - 1].partition("#")[2]
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                said = (here + " " + (above if above.startswith("#") else "")).lower()
                if "import" not in said and "cycle" not in said:
                    found.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    return sorted(set(found))


def test_imports_of_the_app_inside_functions_say_why():
    assert _imports_of_the_app_inside_functions() == []
