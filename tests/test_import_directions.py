"""Dependencies point one way: every import of `kerasrnn/`, at any depth, read with `ast`.

The rules (docs/architecture.md draws them):

| module                     | may not import                                         |
| -------------------------- | ------------------------------------------------------ |
| `kerasrnn/layers/`         | anything of kerasrnn outside `layers/`                 |
| `kerasrnn/engine/`, `data/`| `kerasrnn.tasks`                                       |
| `kerasrnn/data/`           | `kerasrnn.engine`                                      |
| all but `kerasrnn/cli/`    | `kerasrnn.cli`                                         |
| `fileio.py`, `figures.py`  | anything of kerasrnn but `kerasrnn.errors` and `kerasrnn.fileio` |

Imports inside functions count as much as those at the top: they run too, only later.
"""

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HELPERS_MAY_IMPORT = ("kerasrnn.errors", "kerasrnn.fileio")


def module_name(path: Path, root: Path) -> str:
    """`kerasrnn.engine.run_dir` for `<root>/kerasrnn/engine/run_dir.py`; a package is its folder."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, root: Path) -> list[str]:
    """Every module (or module.name) `path` imports, relative imports made absolute."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    imported = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            imported += [f"{source}.{alias.name}" for alias in node.names]
    return imported


def within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def broken_rule(module: str, imported: str) -> str | None:
    """Why `module` may not import `imported`, or None if it may."""
    if not within(imported, "kerasrnn"):
        return None
    if module in ("kerasrnn.fileio", "kerasrnn.figures") and not within(imported, *HELPERS_MAY_IMPORT):
        return "fileio and figures import nothing of kerasrnn but kerasrnn.errors and kerasrnn.fileio"
    if within(module, "kerasrnn.layers") and not within(imported, "kerasrnn.layers"):
        return "layers/ imports nothing of the project outside layers/"
    if within(module, "kerasrnn.engine", "kerasrnn.data") and within(imported, "kerasrnn.tasks"):
        return "engine/ and data/ import nothing of tasks/"
    if within(module, "kerasrnn.data") and within(imported, "kerasrnn.engine"):
        return "data/ imports nothing of engine/"
    if not within(module, "kerasrnn.cli") and within(imported, "kerasrnn.cli"):
        return "nothing outside cli/ imports kerasrnn.cli"
    return None


def wrong_imports(root: Path) -> list[str]:
    """`module imports name: rule` for every import of `<root>/kerasrnn/` against the directions."""
    wrong = []
    for path in sorted((root / "kerasrnn").rglob("*.py")):
        module = module_name(path, root)
        for imported in imported_names(path, root):
            rule = broken_rule(module, imported)
            if rule:
                wrong.append(f"{module} imports {imported}: {rule}")
    return wrong


def test_every_import_of_kerasrnn_points_the_allowed_way():
    wrong = wrong_imports(REPO_ROOT)
    assert not wrong, "imports against the directions:\n" + "\n".join(wrong)


def test_a_wrong_import_at_any_depth_is_named(tmp_path):
    package = tmp_path / "kerasrnn"
    for folder in ("layers", "engine", "data", "cli"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "layers" / "cell.py").write_text("from ..errors import UserInputError\n")
    (package / "data" / "loader.py").write_text("def load():\n    from kerasrnn.engine import run_dir\n")
    (package / "engine" / "__init__.py").write_text("from . import run\n")
    (package / "engine" / "run.py").write_text("class A:\n    def f(self):\n        import kerasrnn.tasks.base\n")
    (package / "fileio.py").write_text("from kerasrnn import errors\nfrom kerasrnn.program import command\n")
    (package / "figures.py").write_text("from kerasrnn.fileio import replace_atomically\n")
    (package / "cli" / "main.py").write_text("from kerasrnn.tasks import get_task\n")
    assert [line.partition(":")[0] for line in wrong_imports(tmp_path)] == [
        "kerasrnn.data.loader imports kerasrnn.engine.run_dir",
        "kerasrnn.engine.run imports kerasrnn.tasks.base",
        "kerasrnn.fileio imports kerasrnn.program.command",
        "kerasrnn.layers.cell imports kerasrnn.errors.UserInputError",
    ]
