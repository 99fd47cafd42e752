"""Load the README's code examples as modules, so the tests run exactly what users copy.

An example is the ```python block on the line after ``<!-- example: NAME -->``. It is
compiled with README.md as its file name and its own line numbers, so a failing example's
traceback points into the README.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

_EXAMPLE = re.compile(
    r"^<!-- example: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL
)


def examples() -> dict[str, tuple[int, str]]:
    """Return every example by name: the README line its code starts on, and the code."""
    text = README.read_text(encoding="utf-8")
    found: dict[str, tuple[int, str]] = {}
    for match in _EXAMPLE.finditer(text):
        name = match["name"]
        if name in found:
            raise ValueError(f"README.md has two examples named {name!r}")
        line = text.count("\n", 0, match.start("code")) + 1
        found[name] = (line, match["code"])
    return found


def load(name: str, *, module_name: str | None = None) -> types.ModuleType:
    """Run the README example *name* as a new module, registered in `sys.modules`.

    Registering it lets frameworks find it by name (Django's ``ROOT_URLCONF``) and resolve
    its annotations (FastAPI, pydantic). Each call runs the code afresh.
    """
    line, code = examples()[name]
    module_name = module_name or f"readme_example_{name}"
    module = types.ModuleType(module_name)
    module.__file__ = str(README)
    sys.modules[module_name] = module
    try:
        exec(compile("\n" * (line - 1) + code, str(README), "exec"), module.__dict__)  # noqa: S102 - our own README
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
