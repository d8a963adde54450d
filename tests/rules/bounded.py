"""Hostile inputs for the loader tests, and a fresh interpreter to measure what loading them costs."""

from __future__ import annotations

import itertools
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEAK_MEMORY_MB = 300  # what a bomb may cost at most (issue 12)
_ADDRESS_SPACE = 2 * 1024**3  # a regression then fails with MemoryError instead of eating the machine
LOAD_RULES = """
import sys
from pathlib import Path
from monitor.rules import RuleLoadError, load_rules
try:
    load_rules([Path(sys.argv[1])])
except RuleLoadError as exc:
    print(exc)
"""
_PEAK = "import resource\nprint('peak-kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"


@dataclass(frozen=True)
class Run:
    output: str  # what the code printed (its peak line taken off)
    peak_mb: float


def run_bounded(code: str, *args: str) -> Run:
    """Runs ``code`` (with ``args`` in sys.argv[1:]) in a new interpreter and returns its output
    and its peak resident memory, as the kernel counted it for that process alone."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\n" + _PEAK, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,  # only a backstop: each test's own pytest timeout is the bound
        check=False,
        preexec_fn=_cap_memory,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and lines[-1].startswith("peak-kb "), done.stdout
    return Run("\n".join(lines[:-1]), int(lines[-1].split()[1]) / 1024)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))


def anchor_bomb(levels: int = 9, width: int = 9, top: str = "") -> str:
    """The YAML "billion laughs": each anchor lists the previous one ``width`` times, so the last
    stands for width**levels values in about 60 bytes a level. ``top`` is text to put before."""
    names = [chr(ord("a") + level) for level in range(levels)]
    lines = [top] if top else []
    lines.append(f"{names[0]}: &{names[0]} [" + ", ".join(['"lol"'] * width) + "]")
    for before, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * width) + "]")
    return "\n".join(lines) + "\n"


def alias_bomb(levels: int = 12, width: int = 9) -> str:
    """The rule-alias counterpart (issue 12: 12 levels of 9 references, 893 bytes)."""
    lines = ["aliases:", "  a0: [boom, bang]"]
    for level in range(1, levels + 1):
        lines.append(f"  a{level}: [" + ", ".join([f"'@a{level - 1}'"] * width) + "]")
    lines += ["rules:", "  - id: bomb", f"    query: '@a{levels} AND russia'"]
    return "\n".join(lines) + "\n"
