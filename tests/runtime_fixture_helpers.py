"""Fixture node roots for the runtime readers: ``fixtures/node-<case>/root`` (a fake ``/``) and
``expected-runtime.json``: the reader's input and the expected effective settings. Findings are
compared on (code, file, pointer, severity), never on wording. Each fixture's README.md cites the
upstream source of every expectation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from cnidoctor.runtime.containerd import read_containerd
from cnidoctor.runtime.k3s import read_k3s
from cnidoctor.runtime.model import RuntimeConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OPTIONAL_KEYS = ("dirs_source", "conf_template", "files_read")


def node_fixtures(prefixes: Tuple[str, ...]) -> List[Path]:
    return sorted(
        p
        for p in FIXTURES.iterdir()
        if p.name.startswith(prefixes) and (p / "expected-runtime.json").is_file() and _has_reader_input(p)
    )


def _has_reader_input(case: Path) -> bool:
    """Node roots of the containerd/k3s readers say which reader to run; locate's fixtures do not."""
    return "input" in json.loads((case / "expected-runtime.json").read_text())


def run_reader(case: Path) -> Tuple[RuntimeConfig, Dict[str, Any]]:
    expected = json.loads((case / "expected-runtime.json").read_text())
    spec = expected["input"]
    root = str(case / "root")
    if spec["reader"] == "containerd":
        config = read_containerd(root, spec.get("release"), spec.get("config_path"))
    else:
        config = read_k3s(root, spec["flavour"], spec.get("release"), spec.get("data_dir"))
    return config, expected


def actual_view(config: RuntimeConfig, expected: Dict[str, Any]) -> Dict[str, Any]:
    view: Dict[str, Any] = {
        "runtime": config.name,
        "config_file": config.config_file,
        "conf_dir": config.conf_dir,
        "bin_dirs": list(config.bin_dirs),
        "max_conf_num": config.max_conf_num,
        "findings": sorted(
            (
                {"code": f.code, "file": f.file, "pointer": f.pointer, "severity": f.severity.label}
                for f in config.findings
            ),
            key=lambda f: (f["file"] or "", f["code"]),
        ),
    }
    if "handler_conf_dirs" in expected:
        view["handler_conf_dirs"] = [list(pair) for pair in config.handler_conf_dirs]
    for key in OPTIONAL_KEYS:
        if key in expected:
            value = getattr(config, key)
            view[key] = list(value) if isinstance(value, tuple) else value
    return view


def expected_view(expected: Dict[str, Any]) -> Dict[str, Any]:
    view = {k: v for k, v in expected.items() if k != "input"}
    view["findings"] = sorted(view["findings"], key=lambda f: (f["file"] or "", f["code"]))
    return view
