"""CNI505 needs a binary the *runtime* (root) may run but cnidoctor's user may not: a plugin with
only the owner's execute bit, owned by root, probed by an unprivileged user. Root can always
exec a file with any x bit set, so a fixture scenario (run as root in CI) cannot show it; this
test drops to `nobody` in a child process instead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

NOBODY = 65534
# `nobody` cannot reach an interpreter under /root (pyenv, venvs there), so the child runs the
# distribution's Python; the probe path needs only the standard library.
SYSTEM_PYTHON = "/usr/bin/python3"

CHILD = """
import json, sys
from cnidoctor.plugins import probe
from cnidoctor.rules.replies import probe_findings
result = probe.probe_all([sys.argv[1]], cni_version="1.0.0", timeout=5.0, use_cache=False)[sys.argv[1]]
print(json.dumps({"executed": result.executed, "ok": result.ok,
                  "codes": [(f.code, f.severity.label) for f in probe_findings(result, "vendor", "f", "/type")]}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a root-only plugin and drop to nobody")
@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason=f"{SYSTEM_PYTHON} is not installed")
def test_plugin_only_root_may_run_is_not_probed_and_reported_as_info() -> None:
    work = Path(tempfile.mkdtemp(prefix="cnidoctor-505-"))
    try:
        work.chmod(0o755)
        plugin = work / "vendor"
        marker = work / "ran"
        plugin.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
        plugin.chmod(0o744)  # owner (root) may execute; nobody may only read
        # the checkout may sit where nobody cannot read it (CI clones under /root): copy the package
        shutil.copytree(ROOT / "cnidoctor", work / "src" / "cnidoctor")
        subprocess.run(["chmod", "-R", "a+rX", str(work / "src")], check=True)
        env = {
            "PYTHONPATH": str(work / "src"),
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "CNIDOCTOR_CACHE_DIR": str(work / "cache"),
        }
        run = subprocess.run(
            [SYSTEM_PYTHON, "-c", CHILD, str(plugin)],
            user=NOBODY,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        reply = json.loads(run.stdout)
        assert reply == {"executed": False, "ok": False, "codes": [["CNI505", "info"]]}
        assert not marker.exists()  # nothing was executed
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
