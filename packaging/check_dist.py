"""Checks the wheel and the sdist in dist/ as a user and a packager would meet them.

- the wheel: metadata complete (summary, licence expression and file, URLs, classifiers, Python
  requirement, dependencies), every resource inside, both commands declared;
- its dependencies resolve for Windows and macOS (both machines) as well as here (``pip install --dry-run
  --platform ...``, answered by the package index);
- ``pipx install`` of the wheel gives working ``wsinspector`` and ``wsinspector-cli`` commands;
- the sdist carries its tests, docs and packaging, and the core's tests pass from an unpacked sdist.

    python packaging/check_dist.py [--skip-pipx] [--skip-platforms] [--skip-sdist-tests]

Exit code 0 when every check passed; each failure is named.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
sys.path.insert(0, str(ROOT))

from wsinspector import __version__  # noqa: E402

#: (pip --platform values, what it is): every wheel the dependencies need must exist for these
PLATFORMS = [
    (["win_amd64"], "Windows x86_64"),
    (["macosx_13_0_x86_64", "macosx_11_0_x86_64", "macosx_10_9_x86_64"], "macOS Intel"),
    (["macosx_14_0_arm64", "macosx_11_0_arm64"], "macOS Apple silicon"),
    (["manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"], "Linux x86_64 (glibc 2.34+)"),
]
SDIST_MUST_HAVE = ["pyproject.toml", "LICENSE", "README.md", "MANIFEST.in", "tests/conftest.py",
                   "tests/core/test_export.py", "docs/test-format.md", "docs/session-format.md",
                   "packaging/wsinspector.spec", "wsinspector/resources/wsinspector.svg", "bench/startup.py"]


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {what}" + (f": {detail}" if detail and not ok else ""), flush=True)
        if not ok:
            self.failures.append(what)


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=1200, check=False, **kwargs)  # type: ignore[call-overload]


def check_wheel(checks: Checks, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"wsinspector-{__version__}.dist-info"
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    checks.check("wsinspector/resources/wsinspector.svg" in names, "the wheel carries the icon")
    checks.check(f"{info}/licenses/LICENSE" in names, "the wheel carries the licence file")
    checks.check(not any(name.startswith(("tests/", "bench/", "packaging/")) for name in names),
                 "the wheel holds the package only")
    checks.check(metadata["Version"] == __version__, "the version", metadata["Version"])
    checks.check(metadata.get("License-Expression") == "MIT", "the licence expression",
                 str(metadata.get("License-Expression")))
    checks.check(bool(metadata.get("Summary")), "a summary")
    checks.check(metadata.get("Requires-Python") == ">=3.11", "Requires-Python", str(metadata.get("Requires-Python")))
    urls = metadata.get_all("Project-URL") or []
    checks.check(any(url.startswith("Homepage, https://") for url in urls) and
                 any(url.startswith("Issues, https://") for url in urls), "home page and issue URLs", str(urls))
    classifiers = metadata.get_all("Classifier") or []
    checks.check(all(any(c.startswith(prefix) for c in classifiers) for prefix in
                     ("Operating System :: Microsoft :: Windows", "Operating System :: MacOS",
                      "Operating System :: POSIX :: Linux", "Environment :: X11 Applications :: Qt")),
                 "classifiers name the three systems and Qt", str(classifiers))
    requires = metadata.get_all("Requires-Dist") or []
    checks.check("PySide6-Essentials==6.11.2" in requires and "PySide6-Addons==6.11.2" in requires
                 and not any(r.split()[0] in ("PySide6", "pytest", "pytest-qt") for r in requires if ";" not in r),
                 "runtime dependencies: PySide6 Essentials + Addons pinned, nothing for tests only", str(requires))
    checks.check("wsinspector = wsinspector.cli:main" in entry_points and "[gui_scripts]" in entry_points
                 and "wsinspector-cli = wsinspector.cli:main" in entry_points, "both commands declared")


def check_platforms(checks: Checks, wheel: Path) -> None:
    for platforms, name in PLATFORMS:
        with tempfile.TemporaryDirectory() as target:
            args = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
                    "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
                    "--target", target, "--report", str(Path(target) / "report.json")]
            for platform in platforms:
                args += ["--platform", platform]
            result = _run([*args, str(wheel)])
        checks.check(result.returncode == 0, f"the dependencies resolve for {name}",
                     (result.stderr or result.stdout).strip()[-800:])


def check_pipx(checks: Checks, wheel: Path) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PIPX_HOME": str(Path(home) / "pipx"), "PIPX_BIN_DIR": str(Path(home) / "bin"),
               "PIPX_MAN_DIR": str(Path(home) / "man"), "QT_QPA_PLATFORM": "offscreen"}
        pipx = [sys.executable, "-m", "pipx"]
        if _run([*pipx, "--version"]).returncode != 0:
            installed = _run([sys.executable, "-m", "pip", "install", "--quiet", "pipx"])
            checks.check(installed.returncode == 0, "pipx installs", installed.stderr[-800:])
            if installed.returncode != 0:
                return
        result = _run([*pipx, "install", str(wheel)], env=env)
        checks.check(result.returncode == 0, "pipx install of the wheel", (result.stderr or result.stdout)[-800:])
        if result.returncode != 0:
            return
        for command in ("wsinspector", "wsinspector-cli"):
            ran = _run([str(Path(home) / "bin" / command), "--version"], env=env)
            first = ran.stdout.splitlines()[0] if ran.stdout else ""
            checks.check(ran.returncode == 0 and first == f"wsinspector {__version__}",
                         f"{command} --version after pipx install", ran.stdout + ran.stderr)
        smoke = _run([str(Path(home) / "bin" / "wsinspector"), "--smoke-test"], env=env)
        checks.check(smoke.returncode == 0 and "smoke test: passed" in smoke.stdout,
                     "the window from the pipx install passes its smoke test", smoke.stdout + smoke.stderr)


def check_sdist(checks: Checks, sdist: Path, run_tests: bool) -> None:
    prefix = f"wsinspector-{__version__}/"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(prefix) for name in archive.getnames()}
        missing = [name for name in SDIST_MUST_HAVE if name not in names]
        checks.check(not missing, "the sdist carries its tests, docs and packaging", f"missing {missing}")
        checks.check(not any(name.startswith((".venv/", "dist/", "build/")) or "__pycache__" in name
                             for name in names), "the sdist holds no build output")
        if not run_tests:
            return
        with tempfile.TemporaryDirectory() as unpacked:
            archive.extractall(unpacked, filter="data")
            source = Path(unpacked) / prefix
            env = {**os.environ, "PYTHONPATH": str(source), "QT_QPA_PLATFORM": "offscreen"}
            where = _run([sys.executable, "-c", "import wsinspector; print(wsinspector.__file__)"], cwd=source, env=env)
            checks.check(where.stdout.strip().startswith(str(source)), "the unpacked sdist's package is the one tested",
                         where.stdout)
            result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core"],
                          cwd=source, env=env)
            tail = result.stdout.strip().splitlines()[-1:] or [""]
            checks.check(result.returncode == 0, f"the core's tests pass from the unpacked sdist ({tail[0]})",
                         result.stdout[-1500:] + result.stderr[-800:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pipx", action="store_true")
    parser.add_argument("--skip-platforms", action="store_true")
    parser.add_argument("--skip-sdist-tests", action="store_true")
    parser.add_argument("--dist", type=Path, default=DIST, help="where the wheel and sdist are (default: dist/)")
    args = parser.parse_args()
    wheel = args.dist / f"wsinspector-{__version__}-py3-none-any.whl"
    sdist = args.dist / f"wsinspector-{__version__}.tar.gz"
    checks = Checks()
    for path in (wheel, sdist):
        checks.check(path.is_file(), f"{path.name} was built (python packaging/build.py wheel)")
    if checks.failures:
        return 1
    check_wheel(checks, wheel)
    if not args.skip_platforms:
        check_platforms(checks, wheel)
    if not args.skip_pipx:
        check_pipx(checks, wheel)
    check_sdist(checks, sdist, not args.skip_sdist_tests)
    if checks.failures:
        print(f"{len(checks.failures)} check(s) failed: " + "; ".join(checks.failures), file=sys.stderr)
        return 1
    print("wheel and sdist: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
