"""Build script: the modules, plus stub-only packages made from them at build time.

A distribution of plain modules cannot carry a ``py.typed`` marker (PEP 561),
so type checkers would see every name as ``Any``. The wheel therefore also
ships ``<module>-stubs/__init__.pyi``, derived here from the module itself:
function bodies are cut, everything else (signatures, classes, dataclass
fields, docstrings) is kept.
"""

import ast
import os

from setuptools import setup
from setuptools.command.build_py import build_py

TYPED_MODULES = ("runcrate", "runcrate_async")


class _StubMaker(ast.NodeTransformer):
    def visit_FunctionDef(self, node):  # type: ignore[no-untyped-def]
        doc = ast.get_docstring(node, clean=False)
        body = [ast.Expr(ast.Constant(doc))] if doc else []
        node.body = [*body, ast.Expr(ast.Constant(...))]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - the name ast.NodeTransformer dispatches on

    def visit_ClassDef(self, node):  # type: ignore[no-untyped-def]
        # `get_balance = bound(get_balance)` in a class body means the module's get_balance; in a
        # stub, where every name of a scope is declared at once, it would mean the attribute itself.
        # Such a value is computed before the class, under a name of its own.
        self.generic_visit(node)
        hoisted = []
        for statement in node.body:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                continue
            target = statement.targets[0]
            if isinstance(target, ast.Name) and _mentions(statement.value, target.id):
                alias = f"_{node.name}_{target.id}"
                hoisted.append(ast.Assign(targets=[ast.Name(alias, ast.Store())], value=statement.value))
                statement.value = ast.Name(alias, ast.Load())
        return [*hoisted, node]

    def visit_Module(self, node):  # type: ignore[no-untyped-def]
        # A module-level __getattr__ (lazy names) would make a stub's every unknown name Any.
        node.body = [n for n in node.body if not (isinstance(n, ast.FunctionDef) and n.name == "__getattr__")]
        return self.generic_visit(node)

    def visit_If(self, node):  # type: ignore[no-untyped-def]
        # `if __name__ == "__main__":` has no place in a stub.
        test = node.test
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
            return None
        return self.generic_visit(node)


def _mentions(expression, name):  # type: ignore[no-untyped-def]
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(expression))


def make_stub(source: str) -> str:
    """The text of a stub for a module's source."""
    tree = _StubMaker().visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


class BuildWithStubs(build_py):
    def run(self):  # type: ignore[no-untyped-def]
        super().run()
        for module in TYPED_MODULES:
            source_path = module + ".py"
            if not os.path.exists(source_path):
                continue
            target_dir = os.path.join(self.build_lib, module + "-stubs")
            os.makedirs(target_dir, exist_ok=True)
            with open(source_path, encoding="utf-8") as src:
                stub = make_stub(src.read())
            with open(os.path.join(target_dir, "__init__.pyi"), "w", encoding="utf-8") as out:
                out.write(stub)


setup(cmdclass={"build_py": BuildWithStubs})
