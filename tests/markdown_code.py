"""
The Python code in the Markdown docs, as modules that tools can check and tests import.

A page's ```python blocks and ```{doctest} blocks become one module, in the order
they appear, with the doctest prompts stripped and their expected output left out.
Every line of code keeps its line number, so what a type checker or a traceback
says about line N of the module is about line N of the page.

`make typecheck` writes these modules for README.md and docs/*.md and runs mypy and
pyright on them:

    python -m tests.markdown_code docs/_build/code README.md docs/*.md

A block is left out of its module when the line before its fence is the marker
`<!-- typecheck: skip -->` (text may follow `skip`, to say why). Console sessions
go in ```console blocks, which are never read.
"""

from __future__ import annotations

import re
import shutil
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

# The names that conf.py's doctest_global_setup gives every page's doctests.
HEADER = (
    "from outcome import *  # as doctest_global_setup does for every page\n"
    "# pyright: reportUnusedExpression=false\n"  # a doctest shows a value so
)

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
HEADING = re.compile(r"^(?P<level>#{1,6})[ \t]+(?P<title>.+?)[ \t]*#*$")
MARKER = re.compile(r"^[ \t]*<!--[ \t]*typecheck:(?P<argument>.*?)-->[ \t]*$")
SKIP = re.compile(r"[ \t]*skip\b")
# A directive whose content is Markdown, so fences inside it are blocks of the page.
CONTAINER = re.compile(
    r"\{(admonition|attention|caution|danger|dropdown|error|hint|important|note|seealso"
    r"|tip|topic|warning|tab-item|tab-set|card|div)\}"
)


class MarkdownCodeError(ValueError):
    """A page whose code or markers cannot be read as the docs promise."""


class Block(NamedTuple):
    """One fenced block of Python, as it stands on its page."""

    path: Path
    #: The line number of the block's first line of content (after the fence).
    line: int
    #: ``"python"`` or ``"doctest"``.
    kind: str
    #: The content, dedented to the fence's indentation.
    content: tuple[str, ...]
    #: The section headings above the block, outermost first.
    sections: tuple[str, ...]
    #: Whether the block goes into the page's module.
    typecheck: bool

    def code(self) -> list[str]:
        """Return the block's lines as code: prompts stripped, output left blank."""
        if self.kind == "python" and not _is_session(self.content):
            return list(self.content)
        return _doctest_code(self.content)


def _is_session(content: Sequence[str]) -> bool:
    first = next((line for line in content if line.strip()), "")
    return first.startswith(">>>")


def _doctest_code(content: Sequence[str]) -> list[str]:
    code: list[str] = []
    in_source = False
    for line in content:
        if line.startswith(">>>"):
            code.append(_strip_prompt(line))
            in_source = True
        elif in_source and re.match(r"\.\.\.(?: |$)", line):
            code.append(_strip_prompt(line))
        else:
            # Expected output, a directive's options, or the blank line ending it.
            code.append("")
            in_source = False
    return code


def _strip_prompt(line: str) -> str:
    return line[4:] if line[3:4] == " " else line[3:]


def blocks(path: Path) -> list[Block]:
    """Return the Python blocks of a Markdown page, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return list(_blocks(path, lines, 0, ()))


def _blocks(
    path: Path, lines: Sequence[str], offset: int, above: tuple[str, ...]
) -> Iterator[Block]:
    sections = _Sections(above)
    marker: int | None = None  # the line of a marker not yet used
    index = 0
    while index < len(lines):
        line = lines[index]
        sections.read(line)
        if _is_marker(path, offset + index + 1, line):
            marker = offset + index + 1
        fence = FENCE.match(line)
        if fence is None:
            index += 1
            continue
        end = _closing(lines, index, fence)
        indent = len(fence["indent"])
        content = tuple(_dedent(text, indent) for text in lines[index + 1 : end])
        info = fence["info"].strip()
        language = info.split()[0] if info else ""
        first_line = offset + index + 2
        if language in {"python", "{doctest}"}:
            kind = "python" if language == "python" else "doctest"
            yield Block(
                path, first_line, kind, content, sections.titles(), marker is None
            )
            marker = None
        elif marker is not None:
            raise MarkdownCodeError(
                f"{path}:{marker}: <!-- typecheck: skip --> is followed by a "
                f"{language or 'plain'} block, not a python or doctest one"
            )
        elif CONTAINER.fullmatch(language):
            yield from _blocks(path, content, first_line - 1, sections.titles())
        index = end + 1
    if marker is not None:
        raise MarkdownCodeError(
            f"{path}:{marker}: <!-- typecheck: skip --> is followed by no block"
        )


class _Sections:
    """The headings above the current line, outermost first."""

    def __init__(self, above: tuple[str, ...]) -> None:
        # The levels of headings above a container are unknown, and never closed.
        self._open = [(0, title) for title in above]

    def read(self, line: str) -> None:
        heading = HEADING.match(line)
        if heading is None:
            return
        level = len(heading["level"])
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        self._open.append((level, heading["title"]))

    def titles(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._open)


def _is_marker(path: Path, number: int, line: str) -> bool:
    found = MARKER.match(line)
    if found is None:
        return False
    if SKIP.match(found["argument"]) is None:
        raise MarkdownCodeError(
            f"{path}:{number}: unknown marker {line.strip()!r}; "
            "the marker is <!-- typecheck: skip -->"
        )
    return True


def _closing(lines: Sequence[str], start: int, opening: re.Match[str]) -> int:
    fence = opening["fence"]
    for index in range(start + 1, len(lines)):
        closing = FENCE.match(lines[index])
        if (
            closing is not None
            and closing["fence"][0] == fence[0]
            and len(closing["fence"]) >= len(fence)
            and not closing["info"].strip()
        ):
            return index
    return len(lines)


def _dedent(line: str, indent: int) -> str:
    prefix = len(line) - len(line.lstrip(" \t"))
    return line[min(prefix, indent) :]


def module_source(
    path: Path,
    *,
    section: str | None = None,
    header: str = HEADER,
    typecheck_only: bool = True,
) -> str:
    """
    Return the page's Python as one module, each line of code at its own line number.

    Args:
        path: The Markdown page.
        section: Only the blocks under the heading with this title, if given.
        header: Lines put first, which must end before the page's first block.
        typecheck_only: Leave out the blocks marked `<!-- typecheck: skip -->`.

    Raises:
        MarkdownCodeError: if the header would cover a block, or the section has none.
    """
    chosen = [
        block
        for block in blocks(path)
        if (block.typecheck or not typecheck_only)
        and (section is None or section in block.sections)
    ]
    if section is not None and not chosen:
        raise MarkdownCodeError(f"{path} has no Python block under {section!r}")
    out = header.splitlines()
    for block in chosen:
        if block.line <= len(out):
            raise MarkdownCodeError(
                f"{path}:{block.line}: a block this early would overlap the header"
            )
        out.extend([""] * (block.line - 1 - len(out)))
        out.extend(block.code())
    return "\n".join(out) + "\n"


def load_section(path: Path, section: str, name: str) -> types.ModuleType:
    """
    Run the Python under one heading of a page as a module, and return it.

    Tracebacks and coverage name the page and its own line numbers.
    """
    module = types.ModuleType(name, f"The code under {section!r} in {path.name}.")
    source = module_source(path, section=section, header="", typecheck_only=False)
    code = compile(source, str(path), "exec")
    sys.modules[name] = module
    exec(code, module.__dict__)  # noqa: S102 - the docs' own code, which is the point
    return module


def write_modules(
    target: Path, pages: Sequence[Path], *, root: Path | None = None
) -> list[Path]:
    """
    Write one module per page under `target`, replacing what was there.

    Args:
        target: The directory to write to; `target/docs/retry.py` is docs/retry.md's.
        pages: The pages, relative to `root`.
        root: Where the pages are; the current directory by default.

    Raises:
        MarkdownCodeError: if a page is not relative, or its code cannot be read.
    """
    root = Path() if root is None else root
    sources: list[tuple[Path, str]] = []
    for page in pages:
        if page.is_absolute() or ".." in page.parts:
            raise MarkdownCodeError(f"{page}: give the page relative to {root}")
        header = f"# Generated from {page.as_posix()} by tests/markdown_code.py.\n"
        sources.append((page, module_source(root / page, header=header + HEADER)))
    shutil.rmtree(target, ignore_errors=True)
    written: list[Path] = []
    for page, source in sources:
        module = target / page.with_suffix(".py")
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(source, encoding="utf-8")
        written.append(module)
    return written


def main(argv: Sequence[str]) -> int:
    """Write the modules: the first argument is the directory, the rest the pages."""
    if len(argv) < 2:  # a directory and at least one page
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    try:
        write_modules(Path(argv[0]), [Path(page) for page in argv[1:]])
    except MarkdownCodeError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
