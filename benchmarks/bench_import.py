"""
Compare the cost of ``import outcome`` with importing its two dependencies alone.

Each contender is a new interpreter running ``python -I -c "<imports>"``:
``import outcome``; ``import attrs, typing_extensions``, what outcome cannot do
without, the baseline; and ``pass``, the interpreter's own start-up, for
reference. Every script runs once before anything is timed, so that its
bytecode is compiled and cached, as it is in a deployed application.

A child's time is the CPU time it used (user and system), which the parent
reads from the kernel when it reaps the child (``os.wait4``); a neighbour can
delay it but cannot add to it. The shared harness (``_harness.py``) interleaves
the contenders within each round, in an order rotated from round to round;
a round's figure is the minimum of 3 repeats of a few interpreters each. The
table gives the median time per interpreter and the median over rounds of the
ratio to the baseline, with its spread. The target is the largest ratio of
``import outcome`` to the baseline we accept.

Run it with ``python benchmarks/bench_import.py``; ``--quick`` runs a few
short rounds only to prove the script works.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from _harness import Comparison, Contender, Entry, finish, parse_settings, run

import outcome

if TYPE_CHECKING:
    from collections.abc import Callable

TARGET = 1.25  # the largest accepted ratio of `import outcome` to the baseline
SCRIPTS = {
    "import outcome": "import outcome",
    "import attrs, typing_extensions": "import attrs, typing_extensions",
    "start-up alone": "pass",
}
BASELINE = "import attrs, typing_extensions"
NOTE = (
    "Each figure is one interpreter's CPU time, user and system, read with "
    "os.wait4, in nanoseconds; bytecode compiled beforehand."
)


def child_cpu_ns(script: str) -> int:
    """Run `script` in a new interpreter; return the CPU nanoseconds it used."""
    # -I: no environment variables, user site or current directory on the
    # path, so that nothing but the script differs between the contenders.
    argv = [sys.executable, "-I", "-c", script]
    pid = os.posix_spawn(sys.executable, argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        msg = f"{script!r} failed in a new interpreter (wait status {status})"
        raise RuntimeError(msg)
    return round((usage.ru_utime + usage.ru_stime) * 1e9)


def interpreters(script: str) -> Callable[[int], int]:
    """Time `number` new interpreters running `script`, one after the other."""
    return lambda number: sum(child_cpu_ns(script) for _ in range(number))


def main() -> int:
    """Print a markdown table of CPU times per interpreter and their ratios."""
    settings = parse_settings(__doc__, number=3, quick_number=1)
    for script in SCRIPTS.values():
        child_cpu_ns(script)  # compiles and caches the bytecode
    contenders = [
        Contender(name, interpreters(script)) for name, script in SCRIPTS.items()
    ]
    comparisons = [
        Comparison(
            "a new interpreter",
            BASELINE,
            (
                Entry("import outcome", "import outcome", target=TARGET),
                Entry(BASELINE, BASELINE),
                Entry("start-up alone", "start-up alone"),
            ),
        )
    ]
    misses = run(
        settings,
        contenders,
        comparisons,
        versions={"outcome": outcome.__version__},
        notes=[NOTE],
    )
    return finish(misses, settings)


if __name__ == "__main__":
    sys.exit(main())
