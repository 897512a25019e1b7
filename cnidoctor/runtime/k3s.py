"""k3s and RKE2: their embedded containerd, the config they render, and the data dir it points into.

Both run containerd with ``-c <data-dir>/agent/etc/containerd/config.toml``, a file rendered at
every agent start (k3s-io/k3s:pkg/agent/config/config.go@001a6d94 ``nodeConfig.Containerd.Config``;
RKE2 runs the same agent code with its own data dir, rancher/rke2:go.mod@6ce1a801). That file is
read here with the containerd reader; what is k3s-specific is where the data dir is and whether
the rendered bin dir still belongs to the running release:
* data dir: ``--data-dir`` or ``data-dir:`` in /etc/rancher/<k3s|rke2>/config.yaml, else
  /var/lib/rancher/<k3s|rke2> (k3s-io/k3s:cmd/k3s/main.go@0208f16b ``findDataDir``;
  rancher/rke2:pkg/cli/cmds/server.go@6ce1a801).
* k3s extracts each release to ``data/<sha256>``, links ``data/current`` to it and renames the old
  link to ``data/previous`` (main.go@0208f16b ``extract``); ``bin_dir`` is where ``host-local`` was
  found: ``data/<hash>/bin`` on older releases, the stable ``data/cni`` since k3s PR #10868.
* RKE2 extracts to ``data/<tag>-<digest>/bin`` and links ``<data-dir>/bin`` to the current one
  (rancher/rke2:pkg/bootstrap/bootstrap.go@6ce1a801 ``symlinkBinDir``).
* flannel disabled (``--flannel-backend=none``, always on RKE2): no ``cni`` table is rendered, so
  containerd's defaults /etc/cni/net.d and /opt/cni/bin apply (k3s templates_linux.go@06be48b6).
* a user ``config-v3.toml.tmpl`` (preferred) or ``config.toml.tmpl`` replaces the built-in template
  (k3s-io/k3s:pkg/agent/containerd/config.go@06ea261c ``templateGenerations``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import List, Literal, Optional, Tuple

from ..model import Finding
from ..rules import runtime_containerd as rules
from .containerd import (
    CRI_V1,
    CRI_V2,
    CRI_V3,
    defaults_config,
    read_containerd,
)
from .hostfs import HostFS
from .model import Evidence, RuntimeConfig
from .tomlsrc import json_pointer, locate_key, written_keys

Flavour = Literal["k3s", "rke2"]
DEFAULT_DATA_DIRS = {"k3s": "/var/lib/rancher/k3s", "rke2": "/var/lib/rancher/rke2"}
CONFIG_YAML = {"k3s": "/etc/rancher/k3s/config.yaml", "rke2": "/etc/rancher/rke2/config.yaml"}
RENDERED_CONFIG = "agent/etc/containerd/config.toml"
TEMPLATES = ("agent/etc/containerd/config-v3.toml.tmpl", "agent/etc/containerd/config.toml.tmpl")
# Where a rendered config may carry the bin dir, in the order a reader would look.
BIN_DIR_KEYS = (
    ("plugins", CRI_V2, "cni", "bin_dir"),
    ("plugins", CRI_V3, "cni", "bin_dirs"),
    ("plugins", CRI_V3, "cni", "bin_dir"),
    ("plugins", CRI_V1, "cni", "bin_dir"),
)

_TOP_LEVEL_SCALAR = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*:\s*(?P<value>.*?)\s*$""")


def yaml_top_level_scalar(text: str, key: str) -> Optional[str]:
    """A top-level ``key: value`` of a flat YAML file (k3s config.yaml is flag-name: value).

    Only the subset needed for ``data-dir``: unindented keys, plain or quoted scalars, ``#``
    comments; a later duplicate wins. Anything else (lists, block scalars) yields None, which the
    caller treats as "not set" - PyYAML is not needed for this one key.
    """
    found: Optional[str] = None
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or line.startswith("---"):
            continue
        match = _TOP_LEVEL_SCALAR.match(line)
        if not match or match.group("key").strip("\"'") != key:
            continue
        value = match.group("value")
        if value[:1] in "\"'":
            end = value.find(value[0], 1)
            found = value[1:end] if end > 0 else None
        else:
            found = value.split(" #", 1)[0].strip() or None
    return found


def find_data_dir(host_root: str, flavour: Flavour, data_dir: Optional[str] = None) -> Tuple[str, Evidence]:
    """The data dir: the ``--data-dir`` flag, else ``data-dir`` in config.yaml, else the default."""
    if data_dir:
        return data_dir, Evidence("data-dir", data_dir, "from --data-dir")
    config = CONFIG_YAML[flavour]
    read = HostFS(host_root).read_text(config)
    if read.text is not None:
        value = yaml_top_level_scalar(read.text, "data-dir")
        if value:
            return value, Evidence("data-dir", value, f"data-dir in {config}")
    default = DEFAULT_DATA_DIRS[flavour]
    return default, Evidence("data-dir", default, "default")


def current_release_dir(host_root: str, flavour: Flavour, data_dir: str) -> Optional[str]:
    """The name under ``data/`` of the running release: k3s ``data/current``, RKE2 ``<data-dir>/bin``."""
    if flavour == "k3s":
        target = HostFS(host_root).link_target(f"{data_dir}/data/current")
        return posixpath.basename(target) if target else None
    target = HostFS(host_root).link_target(f"{data_dir}/bin")
    return posixpath.basename(posixpath.dirname(target)) if target else None


def _previous_release_dir(host_root: str, data_dir: str) -> Optional[str]:
    target = HostFS(host_root).link_target(f"{data_dir}/data/previous")
    return posixpath.basename(target) if target else None


def _bin_dir_key(text: str) -> Tuple[str, ...]:
    written = written_keys(text)
    for key in BIN_DIR_KEYS:
        if key in written:
            return key
    return ()


def _bin_dir_finding(host_root: str, config: str, bin_dir: str, message_rule: Tuple[str, str]) -> Finding:
    text = HostFS(host_root).read_text(config).text or ""
    key = _bin_dir_key(text)
    line, column = locate_key(text, key) if key else (None, None)
    rule = rules.K3S_BIN_DIR_MISSING if message_rule[0] == "missing" else rules.K3S_BIN_DIR_STALE
    return rule.at(config, json_pointer(key), message_rule[1], line=line, column=column)


def classify_bin_dir(host_root: str, flavour: Flavour, data_dir: str, bin_dir: str) -> Optional[Tuple[str, str]]:
    """("missing"|"stale", message) for a bin dir inside ``<data-dir>/data/``, else None."""
    prefix = f"{data_dir.rstrip('/')}/data/"
    if not bin_dir.startswith(prefix):
        return None
    name = bin_dir[len(prefix) :].split("/", 1)[0]
    current = current_release_dir(host_root, flavour, data_dir)
    previous = _previous_release_dir(host_root, data_dir) if flavour == "k3s" else None
    which = "data/previous" if name == "previous" or (previous and name == previous) else None
    if not HostFS(host_root).is_dir(bin_dir):
        extra = f" (it was {which})" if which else ""
        return "missing", f"bin dir {bin_dir} does not exist{extra}: every CNI plugin lookup fails"
    if name in ("cni", "current") or current is None or name == current:
        return None
    older = which or "not the running release"
    return (
        "stale",
        f"bin dir {bin_dir} is {older}; the running release is data/{current}: its plugins are older than the release's CNI configs",
    )


def template_findings(host_root: str, data_dir: str) -> Tuple[Tuple[Finding, ...], Tuple[Evidence, ...]]:
    """CNI622 for the user template k3s renders instead of its own (the first that exists)."""
    for relative in TEMPLATES:
        path = f"{data_dir}/{relative}"
        if HostFS(host_root).is_file(path):
            text = (
                f"{path} replaces the built-in containerd template; CNI paths written in it are not updated by upgrades"
            )
            return (rules.K3S_TEMPLATE_IN_USE.at(path, "", text),), (Evidence("config", path, "user template"),)
    return (), ()


def _missing_rendered(flavour: Flavour, rendered: str, evidence: Tuple[Evidence, ...]) -> RuntimeConfig:
    text = f"{rendered} does not exist: the {flavour} agent has not rendered its containerd config for this data dir; containerd defaults assumed"
    return defaults_config(flavour, (rules.K3S_RENDERED_CONFIG_MISSING.at(rendered, "", text),), evidence)


def read_k3s(
    host_root: str,
    flavour: Flavour = "k3s",
    release: Optional[str] = None,
    data_dir: Optional[str] = None,
) -> RuntimeConfig:
    """Effective CNI settings of k3s or RKE2 on the node at ``host_root``.

    ``release`` is the *embedded containerd* release (e.g. "2.0.2-k3s2" from build info), None
    when unknown; ``data_dir`` the ``--data-dir`` flag when the process shows one.
    """
    data_dir, data_evidence = find_data_dir(host_root, flavour, data_dir)
    current = current_release_dir(host_root, flavour, data_dir)
    evidence: Tuple[Evidence, ...] = (data_evidence,)
    if current:
        evidence += (Evidence("data-dir", f"{data_dir}/data/{current}", "running release"),)
    rendered = f"{data_dir}/{RENDERED_CONFIG}"
    if not HostFS(host_root).is_file(rendered):
        return _missing_rendered(flavour, rendered, evidence)
    base = read_containerd(host_root, release, rendered, name=flavour)
    findings: List[Finding] = list(base.findings)
    for bin_dir in base.bin_dirs:
        problem = classify_bin_dir(host_root, flavour, data_dir, bin_dir)
        if problem:
            findings.append(_bin_dir_finding(host_root, rendered, bin_dir, problem))
    template, template_evidence = template_findings(host_root, data_dir)
    if base.dirs_source == "default":
        evidence += (Evidence("config", rendered, "no CNI table rendered (flannel disabled): containerd defaults"),)
    return replace(
        base,
        findings=tuple(findings) + template,
        evidence=evidence + base.evidence + template_evidence,
    )


def read_rke2(host_root: str, release: Optional[str] = None, data_dir: Optional[str] = None) -> RuntimeConfig:
    """``read_k3s`` for RKE2 (its own data dir and config.yaml; flannel is always disabled there)."""
    return read_k3s(host_root, "rke2", release, data_dir)
