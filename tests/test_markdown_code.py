"""Tests for tests/markdown_code.py, which turns the docs' code into modules."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.markdown_code import (
    FENCE as FENCE_LINE,
)
from tests.markdown_code import (
    MarkdownCodeError,
    _closing,
    blocks,
    load_section,
    main,
    module_source,
    write_modules,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = "```"


def page(tmp_path: Path, text: str) -> Path:
    """Write a Markdown page, with ``` written as FENCE to keep this file readable."""
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text).replace("FENCE", FENCE), encoding="utf-8")
    return path


class TestModuleSource:
    """module_source: a page's Python as one module."""

    def test_each_line_of_code_keeps_its_line_number(self, tmp_path: Path) -> None:
        """Prose and fences become blank lines, so line N is line N of the page."""
        path = page(
            tmp_path,
            """\
            # Title

            Some prose.

            FENCEpython
            x = 1
            FENCE

            More prose.

            FENCE{doctest}
            >>> y = x + 1
            """,
        )

        source = module_source(path, header="")

        assert source.splitlines()[5] == "x = 1"
        assert source.splitlines()[11] == "y = x + 1"
        assert [line for line in source.splitlines() if line] == ["x = 1", "y = x + 1"]

    def test_prompts_are_stripped_and_output_is_left_out(self, tmp_path: Path) -> None:
        """`>>> ` and `... ` go, and expected output, even one that starts `...`."""
        path = page(
            tmp_path,
            """\
            # Title

            FENCE{doctest}
            :hide:

            >>> for n in range(2):
            ...     print(n)
            ...
            0
            1
            >>> raise KeyError("k")
            Traceback (most recent call last):
            ...
            KeyError: 'k'
            >>>
            FENCE
            """,
        )

        lines = module_source(path, header="").splitlines()

        assert [line for line in lines if line] == [
            "for n in range(2):",
            "    print(n)",
            'raise KeyError("k")',
        ]
        assert lines[5] == "for n in range(2):"

    def test_a_python_block_written_as_a_session_is_read_as_one(
        self, tmp_path: Path
    ) -> None:
        """A ```python block that starts with `>>>` is a doctest, as Sybil reads it."""
        path = page(tmp_path, "# T\n\nFENCEpython\n>>> 1 + 1\n2\nFENCE\n")

        assert module_source(path, header="").splitlines()[3:] == ["1 + 1", ""]

    def test_other_blocks_are_not_read(self, tmp_path: Path) -> None:
        """Console sessions, TOML and plain fences are no Python."""
        path = page(
            tmp_path,
            """\
            # Title

            FENCEconsole
            $ python -m pip install outcome-kit
            FENCE

            FENCE
            >>> not a python block
            FENCE

            FENCEtoml
            x = 1
            FENCE
            """,
        )

        assert not module_source(path, header="").strip()

    def test_an_indented_block_is_dedented(self, tmp_path: Path) -> None:
        """A block inside a list item is read without the item's indentation."""
        path = page(
            tmp_path,
            """\
            # Title

            - An item:

              FENCE{doctest}
              >>> if True:
              ...     z = 3
              FENCE
            """,
        )

        assert module_source(path, header="").splitlines()[5:7] == [
            "if True:",
            "    z = 3",
        ]

    def test_blocks_inside_a_note_are_read(self, tmp_path: Path) -> None:
        """A directive whose content is Markdown holds blocks of the page."""
        path = page(
            tmp_path,
            """\
            # Title

            ````{note}
            Prose.

            FENCEpython
            inside = True
            FENCE
            ````
            """,
        )

        assert module_source(path, header="").splitlines()[6] == "inside = True"

    def test_the_header_comes_first(self, tmp_path: Path) -> None:
        """The header's lines stand before the code, which keeps its line numbers."""
        path = page(tmp_path, "# T\n\n\n\nFENCEpython\nx = 1\nFENCE\n")

        source = module_source(path, header="import a\nimport b\n")

        assert source.splitlines() == ["import a", "import b", "", "", "", "x = 1"]

    def test_a_header_that_would_cover_a_block_is_refused(self, tmp_path: Path) -> None:
        """No line of code is overwritten or moved by the header."""
        path = page(tmp_path, "FENCEpython\nx = 1\nFENCE\n")

        with pytest.raises(MarkdownCodeError, match=r"page\.md:2: a block this early"):
            module_source(path, header="import a\nimport b\n")


class TestMarker:
    """<!-- typecheck: skip -->, for a block that is meant to fail type checking."""

    def test_the_marked_block_is_left_out(self, tmp_path: Path) -> None:
        """The marked block is not in the module; the blocks around it are."""
        path = page(
            tmp_path,
            """\
            # Title

            FENCEpython
            first = 1
            FENCE

            <!-- typecheck: skip, it shows mypy's error -->
            FENCEpython
            first.nope
            FENCE

            FENCEpython
            last = 2
            FENCE
            """,
        )

        source = module_source(path, header="")

        assert [line for line in source.splitlines() if line] == [
            "first = 1",
            "last = 2",
        ]
        assert [block.typecheck for block in blocks(path)] == [True, False, True]

    def test_a_marked_block_still_loads(self, tmp_path: Path) -> None:
        """The marker is about type checking: the code still runs in load_section."""
        path = page(
            tmp_path,
            """\
            # Title

            <!-- typecheck: skip -->
            FENCEpython
            value = len("four")
            FENCE
            """,
        )

        assert load_section(path, "Title", "marked_page").value == 4

    @pytest.mark.parametrize(
        ("marker", "error"),
        [
            ("<!-- typecheck: skipped -->", "unknown marker"),
            ("<!-- typecheck: check -->", "unknown marker"),
        ],
    )
    def test_an_unknown_marker_is_refused(
        self, tmp_path: Path, marker: str, error: str
    ) -> None:
        """A misspelt marker is an error rather than a block checked by surprise."""
        path = page(tmp_path, f"# T\n\n{marker}\nFENCEpython\nx = 1\nFENCE\n")

        with pytest.raises(MarkdownCodeError, match=rf"page\.md:3: {error}"):
            blocks(path)

    def test_a_marker_before_another_kind_of_block_is_refused(
        self, tmp_path: Path
    ) -> None:
        """A marker above a console block marks nothing, and says so."""
        path = page(
            tmp_path, "# T\n\n<!-- typecheck: skip -->\nFENCEconsole\n$ ls\nFENCE\n"
        )

        with pytest.raises(MarkdownCodeError, match="followed by a console block"):
            blocks(path)

    def test_a_marker_before_no_block_is_refused(self, tmp_path: Path) -> None:
        """A marker left behind when its block was removed is an error."""
        path = page(tmp_path, "# T\n\n<!-- typecheck: skip -->\n\nThe end.\n")

        with pytest.raises(MarkdownCodeError, match="followed by no block"):
            blocks(path)


class TestLoadSection:
    """load_section: the code under one heading, run as a module."""

    def test_only_the_section_is_run(self, tmp_path: Path) -> None:
        """Blocks under other headings are not run; subsections are."""
        path = page(
            tmp_path,
            """\
            # Guide

            FENCEpython
            raise AssertionError("not in the section")
            FENCE

            ## Recipes

            FENCEpython
            base = 2
            FENCE

            ### One recipe

            FENCEpython
            doubled = base * 2
            FENCE

            ## Afterwards

            FENCEpython
            raise AssertionError("after the section")
            FENCE
            """,
        )

        module = load_section(path, "Recipes", "recipes_page")

        assert (module.base, module.doubled) == (2, 4)
        assert sys.modules["recipes_page"] is module

    def test_a_traceback_names_the_page_and_its_line(self, tmp_path: Path) -> None:
        """A failure in the docs' code points at the line of the page."""
        path = page(
            tmp_path, "# Guide\n\nProse.\n\nFENCEpython\nok = 1\n1 / 0\nFENCE\n"
        )

        with pytest.raises(ZeroDivisionError) as caught:
            load_section(path, "Guide", "failing_page")

        last = caught.traceback[-1]
        assert (Path(last.path), last.lineno + 1) == (path, 7)

    def test_a_section_without_code_is_refused(self, tmp_path: Path) -> None:
        """A section name that matches no block is an error, not an empty module."""
        path = page(tmp_path, "# Guide\n\n## Recipes\n\nNo code yet.\n")

        with pytest.raises(MarkdownCodeError, match="no Python block under 'Recipes'"):
            load_section(path, "Recipes", "empty_page")


class TestWriteModules:
    """write_modules and the command line."""

    def test_one_module_per_page_and_nothing_stale(self, tmp_path: Path) -> None:
        """Each page becomes target/<page>.py; what was there before is removed."""
        docs = tmp_path / "docs"
        docs.mkdir()
        guide = page(docs, "# Guide\n\nProse.\n\n\nFENCEpython\nx = 1\nFENCE\n")
        target = tmp_path / "out"
        (target / "old").mkdir(parents=True)

        written = write_modules(target, [guide.relative_to(tmp_path)], root=tmp_path)

        assert written == [target / "docs" / "page.py"]
        assert not (target / "old").exists()
        lines = written[0].read_text(encoding="utf-8").splitlines()
        assert lines[0] == "# Generated from docs/page.md by tests/markdown_code.py."
        assert lines[1].startswith("from outcome import *")
        assert lines[6] == "x = 1"

    def test_an_absolute_page_is_refused(self, tmp_path: Path) -> None:
        """A page is named relative to the root, so its module stays under target."""
        guide = page(tmp_path, "# Guide\n")

        with pytest.raises(MarkdownCodeError, match="relative to"):
            write_modules(tmp_path / "out", [guide])
        assert not (tmp_path / "out").exists()

    def test_the_command_reports_a_bad_marker(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The command exits 1, names the page and line of a bad marker, writes none."""
        page(tmp_path, "# T\n\n<!-- typecheck: nope -->\nFENCEpython\nx\nFENCE\n")
        monkeypatch.chdir(tmp_path)

        assert main(["out", "page.md"]) == 1
        assert "page.md:3: unknown marker" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()

    def test_the_command_writes_the_modules(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Given a directory and pages, the command writes a module per page."""
        page(tmp_path, "# T\n\nProse.\n\nFENCEpython\nx = 1\nFENCE\n")
        monkeypatch.chdir(tmp_path)

        assert main(["out", "page.md"]) == 0
        assert (tmp_path / "out" / "page.py").read_text(encoding="utf-8").splitlines()[
            5
        ] == "x = 1"

    def test_the_command_needs_a_directory_and_a_page(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without pages, the command prints its usage and exits 2."""
        assert main(["out"]) == 2
        assert "python -m tests.markdown_code" in capsys.readouterr().err


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_page_compiles(path: Path) -> None:
    """Each page's code, prompts stripped, is valid Python: a bad prompt shows here."""
    compile(module_source(path), str(path), "exec")


def test_a_chained_failure_in_the_docs_is_reported(tmp_path: Path) -> None:
    """A doc example raising while handling an exception fails, and the run goes on."""
    (tmp_path / "conftest.py").write_text(
        (ROOT / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    page(
        docs,
        """\
        # Guide

        FENCEpython
        try:
            {}["missing"]
        except KeyError:
            undefined_name
        FENCE

        FENCEpython
        after = True
        FENCE
        """,
    )

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "docs/page.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert "INTERNALERROR" not in run.stdout
    assert "1 failed, 1 passed" in run.stdout


ROLE = re.compile(r"(?<!`)\{[\w:-]+\}`")
INCLUDES = {"{literalinclude}", "{include}"}
# The API reference is autodoc's, which no code host renders; it says so at the top.
RST_ALLOWED = {"api.md"}


def code_host_problems(path: Path) -> list[str]:
    """What in a page shows as raw text, or as nothing, when a code host renders it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    problems: list[str] = []
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        fence = FENCE_LINE.match(line)
        if fence is not None:
            info = fence["info"].strip()
            directive = info.split()[0] if info else ""
            if directive in INCLUDES:
                problems.append(
                    f"{number}: {directive} shows nothing; put the code here"
                )
            if directive == "{eval-rst}" and path.name not in RST_ALLOWED:
                problems.append(f"{number}: {{eval-rst}} shows as raw reST")
            index = _closing(lines, index, fence) + 1
            continue
        if ROLE.search(line):
            problems.append(
                f"{number}: a Sphinx role shows as raw text; write plain `code` "
                "or a [Markdown link](page.md)"
            )
        if line.startswith("%"):
            problems.append(f"{number}: a MyST % comment shows; use <!-- ... -->")
        index += 1
    return problems


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_page_reads_on_a_code_host(path: Path) -> None:
    """No Sphinx role, MyST comment or include, which a code host shows raw or not."""
    assert code_host_problems(path) == []


def test_what_a_code_host_cannot_show_is_found(tmp_path: Path) -> None:
    """Each kind of problem is reported with its line; code that shows them is not."""
    path = page(
        tmp_path,
        """\
        # Title

        See {py:meth}`~outcome.Errors.merge` and {doc}`retry`, not `{py:meth}`.
        % a MyST comment

        FENCE{literalinclude} ../tests/test_recipes.py
        FENCE

        FENCE{eval-rst}
        .. autofunction:: outcome.classify
        FENCE

        FENCEmarkdown
        {py:meth}`shown as an example` is fine in a code block.
        % and so is this
        FENCE
        """,
    )

    assert [problem.split(":")[0] for problem in code_host_problems(path)] == [
        "3",
        "4",
        "6",
        "9",
    ]
