#!/usr/bin/env python3
"""Fails when the tree's structure rules break: no module cycle in any crate, and Pingora named
only in `src/gateway` (the rest of the proxy speaks plain `http` types).

A module depends on another when it names an item through `crate::a::b` or `super::x`
(in `use` or in a path), at every depth of the tree (`policy` → `stages` counts when
`policy::compile` names `stages::auth`). Edges between a module and its own ancestors or descendants are
containment, not dependency, and are ignored. Text-based on purpose: it needs no build and
reads the tree as a newcomer would. Usage: check-structure.py [CRATE_SRC_DIR ...]
"""

import pathlib
import re
import sys

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def module_of(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def without_tests(text: str) -> str:
    # `#[cfg(test)] mod tests { … }` at the end of a file may use anything of its parent.
    index = text.find("#[cfg(test)]")
    return text if index < 0 else text[:index]


def targets(module: tuple, root: str, path: str, modules: set) -> set:
    segments = [s for s in path.split("::") if s]
    if root == "crate":
        base = ()
    else:
        base = module[:-1]
        while segments and segments[0] == "super":
            segments.pop(0)
            base = base[:-1]
    # The longest prefix that is a module: `crate::a::b::Item` depends on `a::b`.
    found = set()
    for n in range(len(segments), 0, -1):
        candidate = base + tuple(segments[:n])
        if candidate in modules:
            found.add(candidate)
            break
    else:
        if base in modules:
            found.add(base)
    return found


def edges_of(src: pathlib.Path) -> dict:
    files = {module_of(src, f): f for f in src.rglob("*.rs")}
    modules = set(files)
    edges = {m: set() for m in modules}
    for module, file in files.items():
        text = without_tests(strip_comments(file.read_text()))
        for root, prefix, group in USE_GROUP.findall(text):
            for item in re.split(r"[,\s]+", group):
                item = item.split("::{")[0].strip("{} ")
                if item and item != "self":
                    edges[module] |= targets(module, root, f"{prefix}::{item}", modules)
        for root, path in PATH.findall(text):
            edges[module] |= targets(module, root, path, modules)
    for module in modules:
        edges[module] = {
            t for t in edges[module]
            if t[: len(module)] != module and module[: len(t)] != t
        }
    return edges


def cycles(edges: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def collapsed(edges: dict, depth: int) -> dict:
    """The graph between modules cut to `depth` path segments (`policy::compile` → `policy`)."""
    out = {}
    for source, targets_ in edges.items():
        a = source[:depth]
        out.setdefault(a, set())
        for target in targets_:
            b = target[:depth]
            out.setdefault(b, set())
            if a != b and a[: len(b)] != b and b[: len(a)] != a:
                out[a].add(b)
    return out


def main() -> int:
    roots = [pathlib.Path(p) for p in sys.argv[1:]] or [pathlib.Path("src")] + sorted(
        pathlib.Path("crates").glob("*/src")
    )
    failed = False
    for src in roots:
        edges = edges_of(src)
        depth = max((len(m) for m in edges), default=0)
        seen = set()
        found = [c for d in range(1, depth + 1) for c in cycles(collapsed(edges, d))]
        for component in found:
            key = tuple(component)
            if key in seen:
                continue
            seen.add(key)
            failed = True
            names = ", ".join("::".join(m) or "(root)" for m in component)
            print(f"{src}: module cycle: {names}")
    for file in sorted(pathlib.Path("src").rglob("*.rs")):
        if file.parts[:2] == ("src", "gateway"):
            continue
        for number, line in enumerate(strip_comments(file.read_text()).splitlines(), 1):
            if re.search(r"\bpingora::", line):
                failed = True
                print(f"{file}:{number}: Pingora outside src/gateway")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
