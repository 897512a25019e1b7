"""The pre-commit hook, for real: `pre-commit try-repo <this checkout> cnidoctor --files ...` in a
throwaway consumer repository. pre-commit pip-installs this checkout into its own virtualenv
(needs PyPI for the dependencies) and only sees committed, staged and tracked-modified files of
the hook repo (pre-commit commands/try_repo.py), so the manifest must be tracked.

The manifest's `files` regex is also checked with pre-commit's own manifest loader, which is
cheap; the try-repo runs are the slow part (a fresh venv each) and are kept to two.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"

GOOD = """{
  "cniVersion": "1.0.0",
  "name": "podnet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"""
# Not JSON: Go's encoding/json (and so libcni's ConfListFromBytes) rejects the trailing comma,
# "invalid character '}' looking for beginning of object key string" (cni-facts.md §3).
BAD = '{\n  "cniVersion": "1.0.0",\n  "name": "podnet",\n  "plugins": [{"type": "bridge",}]\n}\n'


def hook() -> dict:  # type: ignore[type-arg]
    from pre_commit.clientlib import load_manifest

    (only,) = load_manifest(str(MANIFEST))
    return dict(only)


def test_manifest_is_valid_and_runs_static_checks() -> None:
    entry = hook()
    assert entry["id"] == "cnidoctor" and entry["language"] == "python"
    assert entry["entry"] == "cnidoctor check --no-probe"
    assert entry["pass_filenames"] is True


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("etc/cni/net.d/10-flannel.conflist", True),
        ("net.d/99-loopback.conf", True),
        ("deploy/cni/calico.json", True),
        ("clusters/prod/cni/net.d/sub/05-cilium.conflist", True),
        ("net.d/README.md", False),
        ("package.json", False),  # a JSON file outside a CNI directory
        ("config/app.conf", False),
        ("net.d/10-flannel.conflist.bak", False),  # libcni ignores it too (extension filter)
        ("mynet.d/10-x.conflist", False),
    ],
)
def test_files_regex_selects_cni_configs(path: str, selected: bool) -> None:
    assert bool(re.search(hook()["files"], path)) is selected


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _try_repo(consumer: Path, files: List[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env["PRE_COMMIT_COLOR"] = "never"
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cnidoctor", "--verbose", "--files", *files],
        cwd=consumer,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("the hook repository is not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", ".pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True
    )
    if tracked.returncode != 0:
        pytest.skip(".pre-commit-hooks.yaml is not tracked yet: try-repo cannot see it")
    repo = tmp_path / "consumer"
    (repo / "net.d").mkdir(parents=True)
    (repo / "net.d" / "10-good.conflist").write_text(GOOD)
    (repo / "net.d" / "20-bad.conflist").write_text(BAD)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    return repo


def test_try_repo_passes_a_good_config_and_fails_a_bad_one(consumer: Path) -> None:
    good = _try_repo(consumer, ["net.d/10-good.conflist"])
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"^cnidoctor \(CNI network configs\)\.+Passed$", good.stdout, re.M), good.stdout

    bad = _try_repo(consumer, ["net.d/20-bad.conflist"])
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"^cnidoctor \(CNI network configs\)\.+Failed$", bad.stdout, re.M), bad.stdout
    assert "- exit code: 1" in bad.stdout
    assert "net.d/20-bad.conflist" in bad.stdout  # the hook prints cnidoctor's report
    assert "Traceback" not in bad.stdout + bad.stderr


# --- the repository's own .pre-commit-config.yaml ------------------------------------------


def test_repository_config_runs_the_house_checks_and_skips_fixtures() -> None:
    from pre_commit.clientlib import load_config

    config = load_config(str(ROOT / ".pre-commit-config.yaml"))
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert set(hooks) == {"ruff", "ruff-format", "mypy"}
    assert hooks["mypy"]["pass_filenames"] is False
    for entry in (h["entry"].split()[0] for h in hooks.values()):
        assert shutil.which(entry, path=os.path.dirname(sys.executable)) or shutil.which(entry), entry
    # Fixtures are broken on purpose; not even the cnidoctor hook may look at them.
    assert re.search(config["exclude"], "fixtures/schema-violation/net.d/10-mynet.conflist")
    assert not re.search(config["exclude"], "cnidoctor/cli.py")
