"""Build wsinspector's artifacts.

    python packaging/build.py STEP [STEP ...]

Steps:
  icons    build/icons/: PNG 16-512, .ico, .icns and the SVG, from wsinspector/resources/wsinspector.svg
  wheel    dist/wsinspector-X.Y.Z-py3-none-any.whl and the sdist dist/wsinspector-X.Y.Z.tar.gz
  onedir   dist/wsinspector/ (PyInstaller, packaging/wsinspector.spec; macOS: dist/wsinspector.app too), then checked
  tarball  dist/wsinspector-X.Y.Z-linux-ARCH.tar.gz (packaging/linux/build.sh tarball)
  deb      dist/wsinspector_X.Y.Z_ARCH.deb (packaging/linux/build.sh deb)
  nsis     dist/wsinspector-X.Y.Z-setup.exe (packaging/windows/build.sh)
  dmg      dist/wsinspector-X.Y.Z-macos-ARCH.dmg (packaging/macos/build.sh)
  all      what this operating system can build

The Python that builds is the project's .venv when it exists, else the one running this script (--python to
choose); the build tools of packaging/requirements.txt are installed into it first (--no-install to skip).
The package steps build the onedir first when dist/wsinspector is missing. The recipes are run with bash and
get WSINSPECTOR_VERSION and PYTHON in their environment.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
IS_WIN = sys.platform == "win32"
IS_MAC = sys.platform == "darwin"
IS_LINUX = sys.platform.startswith("linux")

STEPS = ("icons", "wheel", "onedir", "tarball", "deb", "nsis", "dmg")
if IS_LINUX:
    ALL = ("icons", "wheel", "onedir", "tarball", "deb")
elif IS_WIN:
    ALL = ("icons", "wheel", "onedir", "nsis")
elif IS_MAC:
    ALL = ("icons", "wheel", "onedir", "dmg")
else:
    ALL = ("icons", "wheel")


class BuildError(Exception):
    pass


def version() -> str:
    """wsinspector.__version__, read without importing the package."""
    tree = ast.parse((ROOT / "wsinspector" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__"
                                                for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise BuildError("wsinspector/__init__.py sets no __version__")


def venv_python() -> Path | None:
    venv = ROOT / ".venv"
    python = venv / ("Scripts/python.exe" if IS_WIN else "bin/python")
    return python if python.exists() else None


def machine() -> str:
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch) if IS_MAC or IS_WIN else arch


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


class Builder:
    def __init__(self, python: Path, install: bool, clean: bool) -> None:
        self.python = python
        self.install = install
        self.clean = clean
        self.version = version()
        self.tools_ready = False
        self.built: list[tuple[str, Path, float]] = []  # (step, artifact, seconds)

    def run(self, cmd: list[str | Path], env: dict[str, str] | None = None, what: str = "") -> None:
        text = " ".join(str(part) for part in cmd)
        print(f"+ {text}", flush=True)
        try:
            done = subprocess.run([str(part) for part in cmd], cwd=ROOT, env=env, check=False)
        except OSError as exc:
            raise BuildError(f"{what or text}: cannot run {cmd[0]}: {exc}") from None
        if done.returncode != 0:
            raise BuildError(f"{what or text} failed (exit status {done.returncode})")

    def ensure_tools(self) -> None:
        if self.tools_ready:
            return
        if self.install:
            self.run([self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                      "-r", PACKAGING / "requirements.txt"], what="installing packaging/requirements.txt")
        if IS_LINUX and shutil.which("strip") is None and shutil.which("apt-get") and os.geteuid() == 0:
            # strip (libpython's debug information) and objdump (check_bundle.py)
            self.run(["apt-get", "install", "-y", "-qq", "binutils"], what="installing binutils")
        self.tools_ready = True

    def record(self, step: str, artifact: Path, started: float) -> None:
        if not artifact.exists():
            raise BuildError(f"{step}: {artifact.relative_to(ROOT)} was not made")
        self.built.append((step, artifact, time.monotonic() - started))
        print(f"{step}: {artifact.relative_to(ROOT)} ({human(size_of(artifact))}, "
              f"{time.monotonic() - started:.0f} s)", flush=True)

    # -- steps ---------------------------------------------------------------------------------------------

    def icons(self) -> None:
        started = time.monotonic()
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.run([self.python, PACKAGING / "icons.py", "--out", BUILD / "icons"], env=env, what="icons")
        self.record("icons", BUILD / "icons", started)

    def wheel(self) -> None:
        self.ensure_tools()
        started = time.monotonic()
        for old in (DIST / f"wsinspector-{self.version}-py3-none-any.whl", DIST / f"wsinspector-{self.version}.tar.gz"):
            old.unlink(missing_ok=True)
        self.run([self.python, "-m", "build", "--outdir", DIST, ROOT], what="wheel and sdist (python -m build)")
        self.record("wheel", DIST / f"wsinspector-{self.version}-py3-none-any.whl", started)
        self.record("sdist", DIST / f"wsinspector-{self.version}.tar.gz", started)

    def onedir(self) -> None:
        self.ensure_tools()
        self.icons()
        started = time.monotonic()
        cmd: list[str | Path] = [self.python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                                 "--distpath", DIST, "--workpath", BUILD / "pyinstaller"]
        if self.clean:
            cmd.append("--clean")
        self.run([*cmd, PACKAGING / "wsinspector.spec"], what="onedir (PyInstaller)")
        self.record("onedir", DIST / "wsinspector", started)
        if IS_MAC:
            self.record("onedir", DIST / "wsinspector.app", started)
        self.run([self.python, PACKAGING / "check_bundle.py", DIST / "wsinspector"], what="check_bundle.py")

    def need_onedir(self, step: str) -> None:
        if not (DIST / "wsinspector").is_dir():
            print(f"{step}: dist/wsinspector is missing: building the onedir first", flush=True)
            self.onedir()

    def recipe(self, step: str, script: Path, args: list[str], artifact: Path) -> None:
        if not script.exists():
            raise BuildError(f"{step}: {script.relative_to(ROOT)} is missing, so the {step} step cannot run")
        bash = shutil.which("bash")
        if bash is None:
            raise BuildError(f"{step}: bash is needed to run {script.relative_to(ROOT)}")
        self.need_onedir(step)
        started = time.monotonic()
        env = {**os.environ, "WSINSPECTOR_VERSION": self.version, "PYTHON": str(self.python)}
        self.run([bash, script.relative_to(ROOT).as_posix(), *args], env=env, what=f"{step} ({script.name})")
        self.record(step, artifact, started)

    def tarball(self) -> None:
        self.recipe("tarball", PACKAGING / "linux" / "build.sh", ["tarball"],
                    DIST / f"wsinspector-{self.version}-linux-{machine()}.tar.gz")

    def deb(self) -> None:
        self.recipe("deb", PACKAGING / "linux" / "build.sh", ["deb"],
                    DIST / f"wsinspector_{self.version}_{deb_arch()}.deb")

    def nsis(self) -> None:
        self.recipe("nsis", PACKAGING / "windows" / "build.sh", [], DIST / f"wsinspector-{self.version}-setup.exe")

    def dmg(self) -> None:
        self.recipe("dmg", PACKAGING / "macos" / "build.sh", [],
                    DIST / f"wsinspector-{self.version}-macos-{machine()}.dmg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build wsinspector's artifacts.", epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="+", metavar="STEP", choices=(*STEPS, "all"), help=" ".join((*STEPS, "all")))
    parser.add_argument("--python", type=Path, default=None,
                        help="the Python to build with (default: .venv's, else this one)")
    parser.add_argument("--no-install", action="store_true", help="do not pip-install packaging/requirements.txt")
    parser.add_argument("--clean", action="store_true", help="clear PyInstaller's cache before building")
    args = parser.parse_args(argv)

    python = args.python or venv_python() or Path(sys.executable)
    steps: list[str] = []
    for step in args.steps:
        for one in ALL if step == "all" else (step,):
            if one not in steps:
                steps.append(one)
    builder = Builder(python, install=not args.no_install, clean=args.clean)
    print(f"build: wsinspector {builder.version} with {python}: {' '.join(steps)}", flush=True)
    started = time.monotonic()
    try:
        for step in steps:
            if step == "icons" and "onedir" in steps:
                continue  # onedir renders them first
            getattr(builder, step)()
    except BuildError as exc:
        print(f"build: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"build: done in {time.monotonic() - started:.0f} s", flush=True)
    for step, artifact, seconds in builder.built:
        print(f"  {step:8} {human(size_of(artifact)):>10}  {artifact.relative_to(ROOT)}  ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
