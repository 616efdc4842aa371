#!/usr/bin/env bash
# Installs the real NeMo Platform (nemo-platform 0.6.0, Python 3.12) into a cached virtual environment
# outside the worktree, so every checkout and every CI run on this machine reuses it.
#
#   DDC_NEMO_VENV   where the venv lives (default: ~/.cache/ddc-ci/nemo-platform-0.6.0)
#   DDC_NEMO_PYTHON the Python 3.12 to build it with (default: pyenv's 3.12.x, then python3.12 on PATH)
#
# Prints the venv's path on success. Exits 3 when no Python 3.12 exists (the caller decides whether
# that skips the real-platform tests or fails CI); any other failure is an error.
# The marker file is written last, so a venv without it (an interrupted install) is rebuilt.
set -euo pipefail

VERSION=0.6.0
SPEC="nemo-platform[services,nemo-data-designer-plugin,data-designer-nemo]==${VERSION}"
VENV="${DDC_NEMO_VENV:-${HOME}/.cache/ddc-ci/nemo-platform-${VERSION}}"
MARKER="${VENV}/.ddc-install-complete"

if [ -f "${MARKER}" ] && [ "$(cat "${MARKER}")" = "${SPEC}" ] && [ -x "${VENV}/bin/nemo" ]; then
  echo "${VENV}"
  exit 0
fi

PY="${DDC_NEMO_PYTHON:-}"
if [ -z "${PY}" ] && command -v pyenv >/dev/null 2>&1; then
  for candidate in "$(pyenv root)"/versions/3.12*/bin/python; do
    [ -x "${candidate}" ] && PY="${candidate}"
  done
fi
if [ -z "${PY}" ] && command -v python3.12 >/dev/null 2>&1; then
  PY="$(command -v python3.12)"
fi
if [ -z "${PY}" ]; then
  echo "install.sh: no Python 3.12 found (pyenv or python3.12 on PATH); nemo-platform ${VERSION} needs it" >&2
  exit 3
fi

# One installer at a time per venv (parallel CI jobs or helpers on one machine).
mkdir -p "$(dirname "${VENV}")"
exec 9>"${VENV}.lock"
flock 9
if [ -f "${MARKER}" ] && [ "$(cat "${MARKER}")" = "${SPEC}" ] && [ -x "${VENV}/bin/nemo" ]; then
  echo "${VENV}"
  exit 0
fi

start=$(date +%s)
rm -rf "${VENV}"
"${PY}" -m venv "${VENV}"
# (pip's warnings about local index folders that do not exist are dropped; its exit status is kept)
quiet() { { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2; }
"${VENV}/bin/python" -m pip install -q --upgrade pip 2>&1 | quiet
"${VENV}/bin/python" -m pip install -q "${SPEC}" 2>&1 | quiet
"${VENV}/bin/nemo" --help >/dev/null
printf '%s' "${SPEC}" >"${MARKER}"
echo "install.sh: nemo-platform ${VERSION} installed in $(( $(date +%s) - start )) s" >&2
echo "${VENV}"
