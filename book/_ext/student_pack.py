"""The student pack: the book's package as one wheel that carries its data.

A downloaded chapter notebook needs ``tracking_evidence`` and the files it reads from the
repository (``data/``, ``tests/reference/*.json``, ``book/references.bib``). The wheel carries a copy
of them inside the package (``setup.py`` copies them in; ``tracking_evidence.data.book_path`` reads
them when the repository is not there), so one ``pip install`` of it lets a notebook run on a
student's own Python or on a hosted notebook service.

:func:`ensure_wheel` builds it with the PEP 517 hook of the installed setuptools (no pip, no build
isolation, nothing downloaded) from a snapshot of those files in a temporary folder (nothing is
written into the repository), and rebuilds only when one of them changed. The HTML build calls it
(``downloads.py``); ``python book/_ext/student_pack.py [--out DIR]`` builds it by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execution_inputs import inputs_fingerprint  # noqa: E402

PACKAGE = "tracking_evidence"
PROJECT_FILES = ("pyproject.toml", "setup.py", "LICENSE", "book/references.bib")
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip file can hold: the same bytes every build


def project(root: Path) -> tuple[str, str]:
    """(name, version) of the project, from ``root/pyproject.toml``; for a book built outside the
    repository (no ``pyproject.toml``), of the installed package."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        from importlib.metadata import version

        return PACKAGE, version(PACKAGE)
    metadata = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return metadata["name"], metadata["version"]


def can_build(root: Path) -> bool:
    """Whether ``root`` is the repository (a book built from a copy of some of its files is not)."""
    return all((root / name).exists() for name in (*PROJECT_FILES, "data", f"src/{PACKAGE}"))


def wheel_name(root: Path) -> str:
    """The file name of the wheel (pure Python: ``<name>-<version>-py3-none-any.whl``)."""
    name, version = project(root)
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def pack_fingerprint(root: Path) -> str:
    """SHA-256 of everything that goes into the wheel: the package, the data, the fixtures
    (execution_inputs.inputs_fingerprint of the repository's folders) and the project files."""
    digest = hashlib.sha256(inputs_fingerprint({"package": root / "src" / PACKAGE, "data": root / "data",
                                                "reference": root / "tests" / "reference"}).encode())
    for name in PROJECT_FILES:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _snapshot(root: Path, stage: Path) -> None:
    for name in PROJECT_FILES:
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, stage / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "bundled")
    shutil.copytree(root / "src" / PACKAGE, stage / "src" / PACKAGE, ignore=ignore)
    shutil.copytree(root / "data", stage / "data", ignore=shutil.ignore_patterns("__pycache__"))
    (stage / "tests" / "reference").mkdir(parents=True)
    for fixture in (root / "tests" / "reference").glob("*.json"):
        shutil.copy2(fixture, stage / "tests" / "reference" / fixture.name)


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build the wheel of the project at ``root`` into ``out_dir``; returns its path."""
    if not can_build(root):
        missing = [name for name in (*PROJECT_FILES, "data", f"src/{PACKAGE}") if not (root / name).exists()]
        raise FileNotFoundError(f"cannot build the student pack: {', '.join(missing)} missing under {root}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="student-pack-") as temporary:
        stage = Path(temporary)
        _snapshot(root, stage)
        hook = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
        done = subprocess.run([sys.executable, "-c", hook, str(out_dir.resolve())], cwd=stage, capture_output=True,
                              text=True, env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"building the wheel failed:\n{(done.stdout + done.stderr)[-3000:]}")
    built = out_dir / done.stdout.strip().splitlines()[-1]
    if built.name != wheel_name(root):
        raise RuntimeError(f"setuptools built {built.name}, expected {wheel_name(root)}")
    return built


def ensure_wheel(root: Path, pack_dir: Path) -> Path:
    """The wheel in ``pack_dir``, built again only when what goes into it changed."""
    wheel, stamp = pack_dir / wheel_name(root), pack_dir / "fingerprint.txt"
    fingerprint = pack_fingerprint(root)
    if wheel.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == fingerprint:
        return wheel
    for old in pack_dir.glob("*.whl"):
        old.unlink()
    wheel = build_wheel(root, pack_dir)
    stamp.write_text(fingerprint + "\n", encoding="utf-8")
    return wheel


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the student pack (the package's wheel, with its data).")
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--out", type=Path, default=root / "_build" / "student-pack", help="folder for the wheel")
    args = parser.parse_args(argv)
    print(ensure_wheel(root, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
