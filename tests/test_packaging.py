"""The wheel holds every module of the package, and each imports from the wheel alone."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Folders of the checkout that are not part of the package.
NOT_PACKAGED = {"tests", "benchmarks", "notebooks", "scripts", "docs", "build", "results"}


def source_modules() -> set[str]:
    """Every module of the package in the checkout: the root's modules and those of each folder
    that is a Python package (has an ``__init__.py``), as ``glianet.x.y`` names."""
    modules = set()
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in NOT_PACKAGED or parts[0].startswith("."):
            continue
        if not all((ROOT.joinpath(*parts[:i]) / "__init__.py").exists()
                   for i in range(1, len(parts))):  # fmt: skip
            continue
        name = ".".join(("glianet", *parts[:-1], path.stem))
        modules.add(name.removesuffix(".__init__"))
    return modules


def test_the_wheel_holds_and_imports_every_module(tmp_path):
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    subprocess.run([*build, "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("glianet-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    in_wheel = {
        name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        for name in names
        if name.endswith(".py")
    }
    expected = source_modules()
    assert "glianet.schedules.kernels" in expected and "glianet.model" in expected
    assert expected - in_wheel == set(), "modules missing from the wheel (pyproject packages)"
    assert not any(name.startswith("glianet.tests") for name in in_wheel)

    script = (
        "import importlib, sys\n"
        f"names = {sorted(expected)!r}\n"
        "for name in names:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(unpacked)!r}), (name, module.__file__)\n"
        "print(len(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(expected)
