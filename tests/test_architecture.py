"""The package's shape, enforced: one process layer, no import cycles, no reach back into a checkout."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import portico

PACKAGE = Path(portico.__file__).resolve().parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_process_layer_starts_processes():
    offenders = [str(p.relative_to(PACKAGE)) for p in _modules()
                 if p.name != "process.py" and ("subprocess" in _imports(p) or "os.system" in p.read_text()
                                                or "os.popen" in p.read_text())]
    assert offenders == [], f"start processes through portico.process, not in {offenders}"


_YAML_READERS = {"load", "safe_load", "load_all", "safe_load_all", "full_load", "unsafe_load"}


def _yaml_reads(source: str) -> list[int]:
    """Lines that parse YAML with PyYAML directly (`yaml.load(...)` and friends)."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _YAML_READERS and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "yaml"]


def test_only_values_reads_yaml():
    """One YAML reader (`values`: helm's semantics, timestamps kept as strings, errors naming the file)."""
    offenders = {str(p.relative_to(PACKAGE)): lines for p in _modules() if p.name != "values.py"
                 if (lines := _yaml_reads(p.read_text()))}
    assert offenders == {}, f"read YAML through portico.values, not yaml.* in {offenders}"
    # The control: the check sees a direct read.
    assert _yaml_reads("import yaml\nmeta = yaml.safe_load(text)\ndocs = list(yaml.load_all(t, Loader=L))\n") == [2, 3]


def test_every_module_imports():
    for info in pkgutil.walk_packages(portico.__path__, "portico."):
        importlib.import_module(info.name)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_import_cycles_at_module_level():
    """Top-level imports between portico modules form no cycle (imports inside functions are deliberate)."""
    graph: dict[str, set[str]] = {}
    for path in _modules():
        tree = ast.parse(path.read_text())
        deps = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("portico"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("portico"))
        graph[_module_name(path)] = deps
    known = set(graph)
    graph = {m: {d for d in deps if d in known and d != m} for m, deps in graph.items()}
    assert sum(map(len, graph.values())) > 50, "the import graph came out empty: the check would prove nothing"

    def visit(node: str, stack: list[str], done: set[str]) -> None:
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(node):] + [node]))
        if node in done:
            return
        for dep in graph[node]:
            # A package's own __init__ importing its submodules is not a cycle with them.
            if not dep.startswith(node + "."):
                visit(dep, stack + [node], done)
        done.add(node)

    done: set[str] = set()
    for module in graph:
        visit(module, [], done)


def test_the_package_does_not_reach_into_a_checkout():
    for path in _modules():
        text = path.read_text()
        assert "REPO_ROOT" not in text and "parents[2]" not in text, path


def _stage_order_problems(run_names: list[str], documented: list[str], docstring: list[str]) -> list[str]:
    problems = []
    if [n for n in documented if n in run_names] != run_names or not set(run_names) <= set(documented):
        problems.append(f"docs/matrix.md lists {documented}, the pipeline runs {run_names}")
    if docstring != documented:
        problems.append(f"matrix/run.py's docstring says {docstring}, docs/matrix.md {documented}")
    return problems


def test_the_documented_matrix_stages_are_the_ones_run_in_that_order():
    from portico.matrix import run

    names = [stage.name for stage in run.STAGES]
    table = (PACKAGE.parents[1] / "docs" / "matrix.md").read_text().split("| stage | what |", 1)[1].split("\n\n")[0]
    documented = [line.split("|")[1].strip() for line in table.splitlines()[2:] if line.startswith("| ")]
    pipeline = run.__doc__.split(":", 1)[1].split("(", 1)[0]
    steps = [s.strip() for s in pipeline.replace("\n", " ").split("->")]
    assert _stage_order_problems(names, documented, steps) == []
    # The control: a stage run in another order than documented, or a stage the docs lack, is caught.
    assert _stage_order_problems(list(reversed(names)), documented, steps)
    assert _stage_order_problems([*names, "lint"], documented, steps)
    assert _stage_order_problems(names, documented, steps[1:])


MAX_FUNCTION_LINES = 80


def _long_functions(source: str) -> list[tuple[str, int]]:
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_longer_than_80_lines():
    offenders = {str(p.relative_to(PACKAGE)): found for p in _modules() if (found := _long_functions(p.read_text()))}
    assert offenders == {}, f"split these into functions that do one thing each: {offenders}"
    lines = [f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES)]
    assert _long_functions("def fits():\n" + "\n".join(lines[:-1]) + "\n") == []  # 80 lines with the def
    assert _long_functions("def long():\n" + "\n".join(lines) + "\n") == [("long", 81)]  # the control


def test_test_modules_have_names_of_their_own():
    """Two test files of one name (one fake-only, one on a cluster) sent readers and `pytest -k` to the wrong one."""
    tests = PACKAGE.parents[1] / "tests"
    names = [p.name for p in tests.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
