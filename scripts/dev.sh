#!/usr/bin/env bash
# One entry point for a fresh machine: finds a Python >= 3.12, builds .venv, installs glianet,
# then runs what was asked.
#   bash scripts/dev.sh reproduce [ARGS...]   the paper reproduction (glianet reproduce)
#   bash scripts/dev.sh test [PYTEST ARGS...] lint + the whole test suite
#   bash scripts/dev.sh glianet ARGS...       any glianet command inside the venv
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"

find_python() {
    local candidates=() c
    for c in python3.13 python3.12 python3; do
        command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")")
    done
    if command -v pyenv >/dev/null 2>&1; then
        local pyroot
        pyroot="$(pyenv root)"
        for c in "$pyroot"/versions/3.1[2-9]*/bin/python3; do
            [ -x "$c" ] && candidates+=("$c")
        done
    fi
    for c in "${candidates[@]}"; do
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    echo "error: no Python >= 3.12 found (looked on PATH and in pyenv); install one and retry" >&2
    return 1
}

# setup EXTRAS: (re)install the package when pyproject.toml or the extras changed.
setup() {
    local extras="$1"
    if [ ! -x "$venv/bin/python" ]; then
        "$(find_python)" -m venv "$venv"
    fi
    local stamp="$venv/.glianet-stamp-${extras:-base}"
    local want
    want="$(sha256sum pyproject.toml | cut -c1-16)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        if [ -n "$extras" ]; then
            "$venv/bin/python" -m pip install --quiet -e ".[$extras]"
        else
            "$venv/bin/python" -m pip install --quiet -e .
        fi
        echo "$want" > "$stamp"
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    reproduce)
        setup ""
        exec "$venv/bin/glianet" reproduce "$@"
        ;;
    test)
        setup "test"
        "$venv/bin/ruff" check .
        exec "$venv/bin/python" -m pytest "$@"
        ;;
    glianet)
        setup ""
        exec "$venv/bin/glianet" "$@"
        ;;
    *)
        echo "usage: bash scripts/dev.sh {reproduce|test|glianet} [ARGS...]" >&2
        exit 2
        ;;
esac
