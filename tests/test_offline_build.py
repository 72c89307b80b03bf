"""The whole book builds from a cold cache with the network cut: a fresh network namespace with
only the loopback interface (the Jupyter kernels talk to the build over loopback)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


def test_cold_build_in_a_network_namespace_without_network(tmp_path):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("this test needs util-linux's unshare and iproute2's ip (and root, as in CI)")
    build = ROOT / ".venv" / "bin" / "jupyter-book"
    command = f"ip link set lo up && {build} build {ROOT} --path-output {tmp_path} -W -n --keep-going"
    result = subprocess.run(["unshare", "-n", "sh", "-c", command], capture_output=True, text=True, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "build succeeded" in log
    assert log.count("Executed notebook") >= 10, "the cold build should execute every notebook page offline"
    assert (tmp_path / "_build" / "html" / "book" / "ledger.html").exists()
