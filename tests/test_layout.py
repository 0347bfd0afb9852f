"""The package's shape (issue 17): short files, no import cycle, no module reaching into
another module's `_private` names. Read from the source with `ast`, nothing is imported."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "superopt"
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(target module, imported name or None, node) for every import in `module`, at any
    depth (function-level imports included). `from pkg import sub` names the submodule."""
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                sub = source + "." + alias.name
                yield (sub, None, node) if sub in MODULES else (source, alias.name, node)


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_cycle_in(graph, c) for c in components]


def _cycle_in(graph, component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    parents, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return path[::-1] + [start]
                if w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("no cycle in a strongly connected component")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_aliases(module: str) -> dict[str, str]:
    """Local names bound to superopt modules anywhere in `module` (any scope)."""
    aliases = {}
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                elif alias.name.split(".")[0] == "superopt":
                    aliases["superopt"] = "superopt"
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                if source + "." + alias.name in MODULES:
                    aliases[alias.asname or alias.name] = source + "." + alias.name
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The superopt module an expression like `x` or `superopt.x.y` denotes, if any."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        if base is not None and base + "." + node.attr in MODULES:
            return base + "." + node.attr
    return None


def test_no_file_in_the_package_is_over_450_lines():
    long = {}
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            lines = len(path.read_text().splitlines())
        except UnicodeDecodeError:  # checkpoints: binary
            continue
        if lines > MAX_LINES:
            long[str(path.relative_to(PACKAGE.parent))] = lines
    assert not long, "over %d lines: %s" % (MAX_LINES, ", ".join("%s (%d)" % kv for kv in long.items()))


def test_no_import_cycle_among_the_packages_modules():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_module_uses_another_modules_private_names():
    uses = []
    for module in MODULES:
        for target, name, node in _imports(module):
            if name is not None and _private(name) and target != module and target.split(".")[0] == "superopt":
                uses.append("%s:%d imports %s.%s" % (module, node.lineno, target, name))
        aliases = _module_aliases(module)
        for node in ast.walk(TREES[module]):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                target = _dotted(node.value, aliases)
                if target is not None and target != module:
                    uses.append("%s:%d uses %s.%s" % (module, node.lineno, target, node.attr))
    assert not uses, "private names used across modules: " + "; ".join(uses)


def _private_attributes(module: str) -> set[str]:
    """The private attribute names `module` defines: methods and class-level names of its
    classes, and attributes it assigns (`self._x = ...`)."""
    names = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.attr for t in targets if isinstance(t, ast.Attribute))
    return {n for n in names if _private(n)}


def test_no_module_touches_private_attributes_defined_in_another():
    """`obj._x` outside self/cls, where only other modules define `_x`: reaching into
    another module's objects (types are not known, so the name decides)."""
    defined = {m: _private_attributes(m) for m in MODULES}
    uses = []
    for module in MODULES:
        for node in ast.walk(TREES[module]):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in defined[module]
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                owners = sorted(m for m, names in defined.items() if node.attr in names)
                if owners:
                    uses.append("%s:%d uses %s (defined in %s)" % (module, node.lineno, node.attr, ", ".join(owners)))
    assert not uses, "private attributes used across modules: " + "; ".join(uses)


# the checks themselves, on small made-up graphs and sources

def test_a_cycle_is_found_and_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_at_every_depth_and_relative_ones_resolved(monkeypatch):
    source = ("import superopt.x86.isa as isa\n"
              "def f():\n    from superopt.game import game\n    from ..x86.parser import _hidden\n"
              "    return isa._secret, game.Game\n")
    monkeypatch.setitem(TREES, "superopt.check.verify", ast.parse(source))
    found = {(t, n) for t, n, _ in _imports("superopt.check.verify")}
    assert found == {("superopt.x86.isa", None), ("superopt.game.game", None), ("superopt.x86.parser", "_hidden")}
    aliases = _module_aliases("superopt.check.verify")
    assert aliases["isa"] == "superopt.x86.isa" and aliases["game"] == "superopt.game.game"


def test_private_attributes_are_those_a_module_defines(monkeypatch):
    source = ("class A:\n    _slot: int = 0\n    _k = 1\n    def _m(self):\n        self._x = other._y\n"
              "    def public(self):\n        pass\n")
    monkeypatch.setitem(TREES, "superopt.check.verify", ast.parse(source))
    assert _private_attributes("superopt.check.verify") == {"_slot", "_k", "_m", "_x"}
