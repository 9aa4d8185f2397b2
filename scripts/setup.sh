#!/usr/bin/env bash
# Install everything agentsh-runtime's build, tests, demo and benchmarks need.
# Idempotent; when everything is present it only checks (well under a second).
# AGENTSH_SETUP_FORCE_APT=1 runs the apt step even when every package is present.
#   - Debian packages (apt-get update at most once a day, and only if something is missing)
#   - .venv made with a real CPython 3.11 (not the pyenv shim), with `pip install -e .[dev]`
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

APT_STAMP=/var/cache/agentsh-runtime/apt-update.stamp
VENV="$REPO/.venv"
PIP_STAMP="$VENV/.agentsh-setup.stamp"
PACKAGES=(podman runc conmon containerd docker.io busybox-static fuse3 libfuse3-dev
          pkg-config iptables libseccomp-dev libseccomp2 libcap-dev uidmap tmux
          util-linux hyperfine gcc make python3 bindfs git iproute2 openssl)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "must run as root (installs Debian packages)" >&2
    exit 1
fi

# -- interpreter: a real python3.11 binary, never the pyenv shim -----------------
PY=""
for cand in /root/.pyenv/versions/3.11.*/bin/python3.11; do
    [ -x "$cand" ] && PY="$cand"   # the glob sorts, so the last one is the newest
done
if [ -z "$PY" ]; then
    PY=/usr/bin/python3.11
    PACKAGES+=(python3.11 python3-venv)
fi

# -- Debian packages -----------------------------------------------------------
# dpkg-query exits 1 when a package was never known to dpkg: not an error here
installed=" $( (dpkg-query -W -f='${db:Status-Status}=${Package} ' "${PACKAGES[@]}" 2>/dev/null || true) \
    | tr ' ' '\n' | sed -n 's/^installed=//p' | tr '\n' ' ') "
missing=()
for p in "${PACKAGES[@]}"; do
    [[ "$installed" == *" $p "* ]] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ] && [ -z "${AGENTSH_SETUP_FORCE_APT:-}" ]; then
    say "apt: all ${#PACKAGES[@]} packages present, skipping apt-get"
else
    export DEBIAN_FRONTEND=noninteractive
    if [ -f "$APT_STAMP" ] && [ -n "$(find "$APT_STAMP" -mmin -1440 2>/dev/null)" ]; then
        say "apt-get update: ran within the last day ($APT_STAMP), skipping"
    else
        say "apt-get update"
        apt-get update -qq
        mkdir -p "$(dirname "$APT_STAMP")"
        touch "$APT_STAMP"
    fi
    # Do not let package scripts start daemons (dockerd, containerd) on this host.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    say "apt-get install -y ${PACKAGES[*]} (missing: ${missing[*]:-none})"
    rc=0
    apt-get install -y -qq "${PACKAGES[@]}" >/dev/null || rc=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    if [ "$rc" -ne 0 ]; then
        say "apt-get install failed (exit $rc)" >&2
        exit "$rc"
    fi
fi

# -- virtualenv ------------------------------------------------------------------
venv_ok() {
    [ -x "$VENV/bin/python" ] || return 1
    local real
    real="$(readlink -f "$VENV/bin/python")"
    case "$real" in */shims/*) return 1 ;; esac
    "$VENV/bin/python" -I -S -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
        2>/dev/null
}

if venv_ok; then
    say "venv: $VENV ok ($(readlink -f "$VENV/bin/python"))"
else
    [ -e "$VENV" ] && { say "venv: $VENV is broken or not a real python3.11, recreating"; rm -rf "$VENV"; }
    say "venv: creating $VENV with $PY"
    "$PY" -m venv "$VENV"
    rm -f "$PIP_STAMP"
fi

# -- the package, editable, with dev extras ---------------------------------------
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $(readlink -f "$VENV/bin/python")"
if [ -f "$PIP_STAMP" ] && [ "$(cat "$PIP_STAMP")" = "$want" ] \
    && [ -x "$VENV/bin/agentsh-runtime" ] \
    && "$VENV/bin/python" -I -c 'import importlib.metadata as m; m.version("agentsh-runtime")' \
        2>/dev/null; then
    say "pip: agentsh-runtime[dev] already installed (pyproject.toml unchanged), skipping"
else
    say "pip install -e '.[dev]' into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$PIP_STAMP"
fi

# -- FUSE for file_rules: the kernel's fuse (built in, or the module) --------------
if [ ! -e /dev/fuse ]; then
    modprobe fuse 2>/dev/null || true
    [ -e /dev/fuse ] || say "warning: no /dev/fuse: policies with file_rules cannot run"
fi

# -- the monitor's native exec fast path (the monitor falls back to Python without it) --
say "native: make native (agentsh_runtime/monitor/_execfast.so)"
make -s -C "$REPO" native

# -- the agentsh-runtime command: a lean `python -IS` launcher, not pip's script -----
# (pip's console script imports re and runs site: ~8 ms more on every engine call)
say "launcher: writing $VENV/bin/agentsh-runtime"
"$VENV/bin/python" -I -m agentsh_runtime.cli.launcher "$VENV/bin/agentsh-runtime"
# Byte-compile once: the launcher runs with -I, so later runs load .pyc files.
"$VENV/bin/python" -I -m compileall -q agentsh_runtime >/dev/null

say "done"
