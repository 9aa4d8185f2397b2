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

TEMPLATE = """#!{python} -IS
# agentsh-runtime launcher (written by agentsh_runtime.cli.launcher)
import sys
sys.path[0:0] = {front!r}
sys.path.append({site!r})
from agentsh_runtime.cli.entry import main
sys.exit(main())
"""


def launcher_text(python: str | None = None) -> str:
    pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    site = sysconfig.get_paths()["purelib"]
    front = [] if os.path.realpath(pkg_parent) == os.path.realpath(site) else [pkg_parent]
    return TEMPLATE.format(python=python or sys.executable, front=front, site=site)


def write_launcher(dest: str, python: str | None = None) -> None:
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(launcher_text(python))
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m agentsh_runtime.cli.launcher DEST")
    write_launcher(sys.argv[1])
