"""Run solara's server for ``glianet serve``, with the page's offline assets guarded.

Solara serves the page's JavaScript and CSS from a local cache of npm packages, which
``scripts/dev.sh`` fills from the npm registry so that the page works without internet. Solara's
CDN route deletes a cached package folder when a request names the folder itself (e.g.
``GET /_solara/cdn/@widgetti/solara-vuetify-app@10.1.1``) and then fetches it from the internet:
offline, one such request would break the page for good. Here such a request is answered 404
and touches nothing.

Used as ``python -m glianet.serve run server.py ...`` (what ``glianet serve`` runs).
"""

from __future__ import annotations

from pathlib import Path


def guard_cdn_cache() -> None:
    """Answer a request for a folder of solara's asset cache with 404 instead of deleting it.

    Must run before solara.server.starlette is imported, which copies the function it wraps.
    """
    from solara.server import cdn_helper

    get_path = cdn_helper.get_path

    def guarded_get_path(base_cache_dir: Path, path: str) -> Path:
        # solara stores a bare package name ("requirejs@2.3.6") as its __main.js file and takes
        # anything else as a file's path, deleting a folder it finds there
        if "/" in path.replace("\\", "/") and (Path(base_cache_dir) / path).is_dir():
            raise FileNotFoundError(f"{path} is a folder of the asset cache, not an asset")
        return get_path(base_cache_dir, path)

    cdn_helper.get_path = guarded_get_path


def main() -> None:
    """Solara's command line, with the asset cache guarded."""
    guard_cdn_cache()
    from solara.__main__ import main as solara_main

    solara_main()


if __name__ == "__main__":
    main()
