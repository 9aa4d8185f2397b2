"""Write the `agentsh-runtime` executable as a lean launcher.

pip's console script imports `re` and runs `site` (~8 ms together here); engines
start the runtime several times per container, so the installed command is
this script instead: `python -IS` with the package and its dependencies put on
sys.path by hand. Usage: python -m agentsh_runtime.cli.launcher DEST
"""

from __future__ import annotations

import os
import sys
import sysconfig

# The containerd shim follows every `delete` with a `delete --force` of the same,
# by then unknown, id: answered here (exit 0, as runc) before the package loads.
QUICK_DELETE = """import os
_a = sys.argv[1:]
if len(_a) >= 2 and "delete" in _a and ("--force" in _a or "-f" in _a) and \\
        not _a[-1].startswith("-") and "/" not in _a[-1] and _a[-1] not in (".", ".."):
    _root = None
    for _i, _x in enumerate(_a[:_a.index("delete")]):
        if _x in ("--root", "-root") and _i + 1 < len(_a):
            _root = _a[_i + 1]
        elif _x.startswith(("--root=", "-root=")):
            _root = _x.split("=", 1)[1]
    if _root is None and os.geteuid() == 0:
        _root = "/run/agentsh-runtime"
    if _root and not os.path.lexists(os.path.join(_root, _a[-1])):
        sys.exit(0)
"""

TEMPLATE = """#!{python} -IS
# agentsh-runtime launcher (written by agentsh_runtime.cli.launcher)
import sys
{quick}sys.path[0:0] = {front!r}
sys.path.append({site!r})
from agentsh_runtime.cli.entry import main
sys.exit(main())
"""


def launcher_text(python: str | None = None) -> str:
    pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    site = sysconfig.get_paths()["purelib"]
    front = [] if os.path.realpath(pkg_parent) == os.path.realpath(site) else [pkg_parent]
    return TEMPLATE.format(python=python or sys.executable, front=front, site=site,
                           quick=QUICK_DELETE)


PACKAGED = """#!/usr/bin/python3 -IS
# agentsh-runtime launcher (Debian package): the library lives in ../lib/agentsh-runtime
import sys
{quick}sys.path[0:0] = [os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                              "lib", "agentsh-runtime", "site")]
from agentsh_runtime.cli.entry import main
sys.exit(main())
"""


def packaged_launcher_text() -> str:
    return PACKAGED.format(quick=QUICK_DELETE)


def write_launcher(dest: str, python: str | None = None) -> None:
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(launcher_text(python))
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--packaged":
        with open(sys.argv[2], "w") as f:
            f.write(packaged_launcher_text())
        os.chmod(sys.argv[2], 0o755)
    elif len(sys.argv) == 2:
        write_launcher(sys.argv[1])
    else:
        sys.exit("usage: python -m agentsh_runtime.cli.launcher [--packaged] DEST")
