"""`make test` brings the Debian packages its tests need (scripts/system_packages.sh): it installs
them when it can, and otherwise stops at once, before building anything, with the command to run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "system_packages.sh"


def test_make_test_checks_the_system_packages_before_it_builds():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    prerequisites = re.search(r"^test:(.*)$", makefile, re.M).group(1).split()
    assert prerequisites[:2] == ["system-packages", "book"]
    assert re.search(r"^system-packages:\n\t@?scripts/system_packages\.sh$", makefile, re.M)


def test_ci_only_runs_the_readmes_test_command():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert not any("apt-get" in line for line in commands)


def test_nothing_to_do_when_the_packages_are_there():
    if not os.access("/usr/bin/chromium", os.X_OK) or shutil.which("ip") is None:
        pytest.fail("chromium or iproute2 missing although make test installs them first")
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_without_root_or_sudo_it_stops_at_once_with_the_command_to_run():
    """As a user who is neither root nor a password-less sudoer (``nobody``), with Chromium missing."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("this test runs the script as the user 'nobody' (setpriv, from util-linux), which needs root")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    start = time.perf_counter()  # the script is read from stdin: nobody cannot enter pytest's temporary folders
    done = subprocess.run([*as_nobody, "bash", "-s"], input=SCRIPT.read_text(encoding="utf-8"), capture_output=True,
                          text=True, timeout=30, env={"PATH": os.environ["PATH"], "CHROMIUM": "/nonexistent/chromium"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert time.perf_counter() - start < 10
    assert "sudo apt-get update && sudo apt-get install -y chromium" in done.stderr
