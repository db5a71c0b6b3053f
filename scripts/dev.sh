#!/usr/bin/env bash
# One entry point for a fresh machine: finds a Python >= 3.12, builds .venv, installs glianet,
# then runs what was asked.
#   bash scripts/dev.sh reproduce [ARGS...]   the paper reproduction (glianet reproduce)
#   bash scripts/dev.sh test [PYTEST ARGS...] lint + the whole test suite
#   bash scripts/dev.sh serve [ARGS...]       the browser visualization (glianet serve)
#   bash scripts/dev.sh glianet ARGS...       any glianet command inside the venv
# Setup and the tests run in the checkout; reproduce, serve and glianet run where the caller
# stands, so a relative path (--out results/x, a sweep spec) means what it means to the caller.
set -euo pipefail
caller="$PWD"
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

# setup EXTRAS: (re)install the package when pyproject.toml, the extras or the set of modules
# changed. The install is editable in strict mode: a tree of links to exactly the packages
# pyproject.toml lists, so the environment imports what the wheel holds (no glianet.tests), and
# a module added since the last install is linked in by the reinstall this stamp triggers.
setup() {
    local extras="$1"
    if [ ! -x "$venv/bin/python" ]; then
        "$(find_python)" -m venv "$venv"
    fi
    local stamp="$venv/.glianet-stamp-${extras:-base}"
    local want
    want="$( (cat pyproject.toml; find . -name '*.py' -not -path './.venv*' -not -path './build/*' \
              | LC_ALL=C sort) | sha256sum | cut -c1-16)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet -e ".${extras:+[$extras]}" \
            --config-settings editable_mode=strict
        rm -f "$venv"/.glianet-stamp-*
        echo "$want" > "$stamp"
    fi
}

# The browser page offline: solara fetches its JavaScript and CSS through a CDN proxy that has
# no internet here; put those packages (from the npm registry) into the proxy's cache instead.
solara_assets() {
    local cdn="$venv/share/solara/cdn" solara app grid pkg tmp
    solara="$("$venv/bin/python" -c 'import pathlib, solara; print(pathlib.Path(solara.__file__).parent)')"
    # the versions this solara asks for
    app="$(grep -o 'solara-vuetify-app@[0-9.]*' "$solara/server/templates/solara.html.j2" | head -n 1)"
    grid="$(grep -o 'vue-grid-layout@[0-9a-z.-]*' "$solara/widgets/vue/gridlayout.vue" | head -n 1)"
    for pkg in "@widgetti/$app" "@widgetti/$grid" requirejs@2.3.6 font-awesome@4.5.0 mermaid@10.8.0; do
        [ -d "$cdn/$pkg" ] && continue
        command -v npm >/dev/null 2>&1 || { echo "error: npm is needed to fetch $pkg" >&2; return 1; }
        tmp="$(mktemp -d)"
        (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
        mkdir -p "$cdn/$pkg"
        tar -xzf "$tmp"/*.tgz -C "$cdn/$pkg" --strip-components=1
        rm -rf "$tmp"
    done
}

# Debian's chromium for the browser test (Playwright's own browser download cannot work here).
browser() {
    command -v chromium >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    reproduce)
        setup ""
        cd "$caller"
        exec "$venv/bin/glianet" reproduce "$@"
        ;;
    test)
        setup "test"
        solara_assets
        browser
        "$venv/bin/ruff" check .
        exec "$venv/bin/python" -m pytest "$@"
        ;;
    serve)
        setup ""
        solara_assets
        cd "$caller"
        exec "$venv/bin/glianet" serve "$@"
        ;;
    glianet)
        setup ""
        cd "$caller"
        exec "$venv/bin/glianet" "$@"
        ;;
    *)
        echo "usage: bash scripts/dev.sh {reproduce|test|serve|glianet} [ARGS...]" >&2
        exit 2
        ;;
esac
