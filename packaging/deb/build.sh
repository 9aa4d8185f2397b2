#!/usr/bin/env bash
# Build dist/agentsh-runtime_<version>_<arch>.deb with dpkg-deb, offline.
#   /usr/lib/agentsh-runtime/site   the package and its Python dependencies (copied
#                                   from the project's venv, file lists from their
#                                   installed metadata)
#   /usr/bin/agentsh-runtime        a launcher: python3 -IS with that directory on sys.path
#   /usr/share/agentsh-runtime/     engine registration snippets
# The postinst byte-compiles and registers nothing: `agentsh-runtime install --engine X`
# does that, on the admin's word.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.venv"
OUT="${1:-$REPO/dist}"
PY="$VENV/bin/python"
VERSION="$("$PY" -I -c 'import sys; sys.path.insert(0, "'"$REPO"'"); import agentsh_runtime as a; print(a.__version__)')"
ARCH="$(dpkg --print-architecture)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/agentsh-runtime_${VERSION}_${ARCH}"
SITE="$STAGE/usr/lib/agentsh-runtime/site"
mkdir -p "$SITE" "$STAGE/usr/bin" "$STAGE/DEBIAN" "$STAGE/usr/share/agentsh-runtime" \
         "$STAGE/usr/share/doc/agentsh-runtime"

# the monitor's native exec fast path, built here so the package carries it
make -s -C "$REPO" native
# our package, as a wheel would install it (no build isolation: nothing to download)
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-compile \
    --no-build-isolation --target "$SITE" "$REPO"
rm -rf "$SITE/bin"
[ -f "$SITE/agentsh_runtime/monitor/_execfast.so" ] || {
    echo "build.sh: _execfast.so missing from the package" >&2; exit 1; }
# the runtime dependencies, file by file from the venv's installed metadata
"$PY" -I - "$SITE" <<'PYEOF'
import importlib.metadata as md, os, shutil, sys
site = sys.argv[1]
for dist in ("click", "PyYAML", "structlog", "pyseccomp", "google-re2"):
    d = md.distribution(dist)
    for f in d.files or []:
        if f.suffix == ".pyc" or str(f).startswith(("..", "/")) or "/bin/" in f"/{f}":
            continue
        src = d.locate_file(f)
        dst = os.path.join(site, str(f))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
PYEOF

"$PY" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from agentsh_runtime.cli.launcher import packaged_launcher_text as t; open(sys.argv[2], "w").write(t())' "$REPO" "$STAGE/usr/bin/agentsh-runtime"
chmod 755 "$STAGE/usr/bin/agentsh-runtime"

cp "$REPO/packaging/podman/containers.conf" "$STAGE/usr/share/agentsh-runtime/podman-containers.conf"
for f in containerd/config.toml kubernetes/runtimeclass.yaml docker/daemon.json; do
    [ -f "$REPO/packaging/$f" ] && cp "$REPO/packaging/$f" \
        "$STAGE/usr/share/agentsh-runtime/$(echo "$f" | tr / -)"
done
cp "$REPO/README.md" "$STAGE/usr/share/doc/agentsh-runtime/README.md"
printf 'agentsh-runtime\nLicense: Apache-2.0\n' > "$STAGE/usr/share/doc/agentsh-runtime/copyright"

SIZE="$(du -sk "$STAGE/usr" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: agentsh-runtime
Version: $VERSION
Architecture: $ARCH
Maintainer: agentsh-runtime developers <dev@agentsh-runtime.invalid>
Installed-Size: $SIZE
Depends: python3 (>= 3.11), python3 (<< 3.12), libseccomp2, libfuse3-3, fuse3
Section: admin
Priority: optional
Description: OCI container runtime that enforces agentsh policies
 A drop-in replacement for runc (podman, containerd, Docker) that runs containers as
 the OCI runtime spec says and enforces agentsh policies given by annotations.
CONTROL
cat > "$STAGE/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    python3 -m compileall -q /usr/lib/agentsh-runtime/site >/dev/null || true
    echo "agentsh-runtime installed; register it with: agentsh-runtime install --engine podman|containerd|docker"
fi
POSTINST
cat > "$STAGE/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
find /usr/lib/agentsh-runtime -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
PRERM
chmod 755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/prerm"

mkdir -p "$OUT"
dpkg-deb --root-owner-group --build "$STAGE" "$OUT" >/dev/null
echo "$OUT/agentsh-runtime_${VERSION}_${ARCH}.deb"
