"""The package's shape: its public face, its layering, and how it imports."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import outcome

PACKAGE = pathlib.Path(outcome.__file__).parent

# Data flows down this list: a module imports only modules above it. A package's
# __init__ comes after its modules, since it re-exports them.
ORDER = [
    "outcome._bucket",
    "outcome._result",
    "outcome._classify.decision",
    "outcome._classify.rules",
    "outcome._classify.facts",
    "outcome._classify.chain",
    "outcome._classify.retry_after",
    "outcome._classify.classifier",
    "outcome._classify",
    "outcome._errors.paths",
    "outcome._errors.params",
    "outcome._errors.messages",
    "outcome._errors.detail",
    "outcome._errors.adapters",
    "outcome._errors.collection",
    "outcome._errors.accumulate",
    "outcome._errors",
    "outcome._http",
    "outcome._retry",
    "outcome._saga",
    "outcome._journal.store",
    "outcome._journal.sqlite",
    "outcome._journal.postgres",
    "outcome._journal.durable",
    "outcome._journal",
    "outcome.jobs",
    "outcome.integrations.celery",
    "outcome.integrations.huey",
    "outcome.integrations.dramatiq",
    "outcome.integrations.rq",
    "outcome.integrations.django",
    "outcome.integrations.flask",
    "outcome.integrations.starlette",
    "outcome.integrations.strawberry",
    "outcome.integrations.logging",
    "outcome.integrations.otel",
    "outcome.integrations.sentry",
    "outcome.integrations",
    "outcome._hypothesis",
    "outcome.testing",
    "outcome",
]

# Imported inside functions only because they import an optional dependency.
LAZY_FOR_OPTIONAL_DEPENDENCIES = {"outcome.testing"}


def module_name(path: pathlib.Path) -> str:
    """The dotted name of a module file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(
    module: str, *, top: bool, source: str | None = None
) -> list[tuple[int, str]]:
    """
    The outcome modules `module` imports, with their lines.

    `top`: those at module level (in ``if TYPE_CHECKING:`` blocks too);
    otherwise those inside functions. `source` stands in for the module's file.
    """
    if source is None:
        source = MODULES[module].read_text(encoding="utf-8")
    tree = ast.parse(source)
    nodes: list[ast.stmt] = []
    if top:
        pending = list(tree.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.If):
                pending.extend(node.body + node.orelse)
            else:
                nodes.append(node)
    else:
        nodes = [
            inner
            for outer in ast.walk(tree)
            if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(outer)
            if isinstance(inner, ast.Import | ast.ImportFrom)
        ]
    found: list[tuple[int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}:{node.lineno}: use absolute imports"
            source_module = node.module or ""
            # `from outcome._classify import chain` imports a module.
            names = [
                f"{source_module}.{alias.name}"
                if f"{source_module}.{alias.name}" in MODULES
                else source_module
                for alias in node.names
            ]
        else:
            continue
        found.extend(
            (node.lineno, name)
            for name in names
            if name == "outcome" or name.startswith("outcome.")
        )
    return found


def upward(module: str, source: str | None = None) -> list[str]:
    """The imports of `module` that go up ORDER, or to the module itself."""
    rank = ORDER.index(module)
    return [
        f"line {line}: {name}"
        for line, name in imports(module, top=True, source=source)
        if ORDER.index(name) >= rank
    ]


class TestLayering:
    """Modules import one way, down ORDER, at the top of the file only."""

    def test_every_module_has_a_place(self) -> None:
        """A new module must be put in ORDER, so its layer is decided."""
        assert sorted(MODULES) == sorted(ORDER)

    @pytest.mark.parametrize("module", ORDER)
    def test_imports_go_down_only(self, module: str) -> None:
        """A module imports only modules above it, which also rules out cycles."""
        assert upward(module) == []

    @pytest.mark.parametrize("module", ORDER)
    def test_no_import_inside_functions(self, module: str) -> None:
        """Function-level imports are only for modules of optional dependencies."""
        lazy = [
            f"line {line}: {name}"
            for line, name in imports(module, top=False)
            if name not in LAZY_FOR_OPTIONAL_DEPENDENCIES
        ]
        assert lazy == []

    def test_no_import_is_put_off_to_the_bottom(self) -> None:
        """No module suppresses E402 (a module-level import after code)."""
        suppressed = [
            f"{name}:{number}"
            for name, path in MODULES.items()
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if "E402" in line
        ]
        assert suppressed == []

    def test_the_check_sees_an_upward_import(self) -> None:
        """An import of a lower module, even a type-only one, is reported."""
        source = (
            "from typing import TYPE_CHECKING\n"
            "from outcome._result import Ok\n"
            "if TYPE_CHECKING:\n"
            "    from outcome._saga import Saga\n"
        )
        assert upward("outcome._errors.detail", source) == ["line 4: outcome._saga"]
        assert upward("outcome._bucket", "import outcome._bucket\n") == [
            "line 1: outcome._bucket"
        ]


class TestImportOrder:
    """Each module imports on its own, whatever was imported before it."""

    @pytest.mark.parametrize("module", ORDER)
    def test_each_module_imports_first(self, module: str) -> None:
        """A fresh interpreter can import any module of the package first."""
        command = [sys.executable, "-c", f"import {module}"]
        subprocess.run(command, check=True)  # noqa: S603 - our own module names

    def test_any_order_works(self) -> None:
        """Importing every module in reverse order, then outcome, works."""
        lines = [f"import {module}" for module in reversed(ORDER)]
        command = [sys.executable, "-c", "; ".join(lines)]
        subprocess.run(command, check=True)  # noqa: S603 - our own module names


class TestPublicFace:
    """outcome's __all__ is sorted, complete, and the only public names."""

    def test_all_is_sorted(self) -> None:
        """__all__ is in plain sorted order."""
        assert outcome.__all__ == sorted(outcome.__all__)

    def test_all_names_exist_and_say_outcome(self) -> None:
        """Every exported class and function reports the public module."""
        for name in outcome.__all__:
            obj = getattr(outcome, name)
            if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__code__")):
                assert obj.__module__ == "outcome", name

    def test_every_public_name_is_exported(self) -> None:
        """outcome exports every public-looking name it has, but its modules."""
        public = {
            name
            for name, value in vars(outcome).items()
            if not name.startswith("_") and type(value) is not type(outcome)
        }
        assert public == set(outcome.__all__)

    @pytest.mark.parametrize(
        "module",
        [
            name
            for name in ORDER
            if any(part.startswith("_") for part in name.split(".")[1:])
        ],
    )
    def test_private_modules_define_no_public_looking_name(self, module: str) -> None:
        """A name defined in a private module is exported by outcome, or private."""
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        defined: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                defined.append(node.name)
            elif isinstance(node, ast.Assign):
                defined.extend(
                    target.id for target in node.targets if isinstance(target, ast.Name)
                )
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.append(node.target.id)
        type_variables = {
            name
            for name in defined
            if type(getattr(importlib.import_module(module), name, None)).__name__
            in {"TypeVar", "ParamSpec"}
        }
        leaked = [
            name
            for name in defined
            if not name.startswith("_")
            and name not in outcome.__all__
            and name not in type_variables
            and name != "__all__"
        ]
        assert leaked == []
