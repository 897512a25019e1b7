"""`cnidoctor explain` on node-state ("field") errors: flannel, bridge, host-local, calico, cilium,
Multus, aws-vpc-cni, tuning, the runtime's time-out, macvlan/ipvlan masters.

tests/data/explain/field.txt holds every real line collected per family, each with its source
(a public issue thread for what users saw, or the provider's format string at a tag);
field-lookalikes.txt holds lines from other tools no field family may claim. Expected families
and variables are read off the lines and their sources, not off the matcher.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import run_cli
from test_explain_corpus import _variants, check_record, records

from cnidoctor.explain import explain, explain_events, split_events
from cnidoctor.explain.kb import entries
from cnidoctor.explain.nodecheck import NODE_CHECK_KINDS, check_node, node_state
from cnidoctor.explain.render import explanation_blocks, render_blocks

FIELD = records("field.txt")
LOOKALIKES = records("field-lookalikes.txt")
FIELD_FAMILIES = sorted({r["family"] for r in FIELD})
UPSTREAM = re.compile(r"^[\w.-]+/[\w.-]+:[\w./-]+@[\w.-]+|^https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+")


# --------------------------------------------------------------------------- the corpus itself
@pytest.mark.parametrize("record", FIELD, ids=[f"{r['family']}:{r['source'][:50]}" for r in FIELD])
def test_field_line_recognised(record: Dict[str, Any]) -> None:
    check_record(record)


def test_at_least_thirty_field_families_each_with_lines() -> None:
    assert len(FIELD_FAMILIES) >= 30
    known = {e.id for e in entries()}
    assert set(FIELD_FAMILIES) <= known


def test_every_collected_line_names_its_source() -> None:
    for record in FIELD + LOOKALIKES:
        assert UPSTREAM.match(record["source"]), record["source"]
    for record in FIELD:
        assert record["kind"] in ("report", "format")
        assert record["source"].startswith("https://") == (record["kind"] == "report"), record["source"]


def test_the_issue_examples_are_all_recognised() -> None:
    """The seven lines issue 12 quotes as "not recognised" today."""
    lines = {
        "open /run/flannel/subnet.env: no such file or directory": "flannel-subnet-env",
        'failed to set bridge addr: "cni0" already has an IP address different from 10.244.1.1/24': "bridge-addr-different",
        "no IP addresses available in range set: 10.85.0.1-10.85.255.254": "ipam-exhausted",
        "stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/": "calico-nodename-missing",
        'failed to acquire lease: node "n1" pod cidr not assigned': "flannel-pod-cidr-not-assigned",
        "open /etc/cni/tuning/allowlist.conf: permission denied": "tuning-allowlist-unreadable",
        "error getting ClusterInformation: connection is unauthorized: Unauthorized": "calico-unauthorized",
    }
    for text, family in lines.items():
        assert [m.entry.id for m in explain(text).matches][:1] == [family], text


# Each family's own message, bare, as the provider prints it (values from field.txt's lines).
BARE = {
    "flannel-subnet-env": "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory",
    "flannel-subnet-env-incomplete": "loadFlannelSubnetEnv failed: /run/flannel/subnet.env is missing FLANNEL_NETWORK",
    "flannel-cni0-mismatch": 'failed to delegate add: failed to set bridge addr: "cni0" already has an IP address different from 10.244.0.1/24',
    "bridge-addr-different": 'failed to set bridge addr: "cni0" already has an IP address different from 10.88.0.1/16',
    "bridge-add-ip-failed": 'failed to set bridge addr: could not add IP address to "cni0": permission denied',
    "bridge-not-a-bridge": '"eth0" already exists but is not a bridge',
    "bridge-create-failed": 'failed to create bridge "kube-bridge-very-long": numerical result out of range',
    "ipam-exhausted": "failed to allocate for range 0: no IP addresses available in range set: 10.85.0.1-10.85.255.254",
    "hostlocal-duplicate-allocation": "10.88.0.7 has been allocated to 0a1b2c3d4e5f, duplicate allocation is not allowed",
    "hostlocal-requested-ip-unavailable": "requested IP address 10.88.0.50 is not available in range set 10.88.0.1-10.88.255.254",
    "hostlocal-datadir-unwritable": "mkdir /var/lib/cni/networks/mynet: read-only file system",
    "calico-nodename-missing": "stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/",
    "calico-unauthorized": "error getting ClusterInformation: connection is unauthorized: Unauthorized",
    "calico-clusterinfo-unreachable": 'error getting ClusterInformation: Get "https://10.96.0.1:443/apis/crd.projectcalico.org/v1/clusterinformations/default": dial tcp 10.96.0.1:443: i/o timeout',
    "calico-not-ready": "Calico is currently not ready to process requests",
    "cilium-agent-unreachable": 'unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout: Get "http:///var/run/cilium/cilium.sock/v1/config": dial unix /var/run/cilium/cilium.sock: connect: no such file or directory',
    "cilium-api-timeout": "unable to create endpoint: Cilium API client timeout exceeded",
    "multus-unauthorized": "Multus: [default/web-0/5f1c2d]: error waiting for pod: Unauthorized",
    "multus-nad-not-found": 'cannot find a network-attachment-definition (macvlan-conf) in namespace (default): network-attachment-definitions.k8s.cni.cncf.io "macvlan-conf" not found',
    "multus-readiness-indicator": "Multus: [default/web-0/5f1c2d]: have you checked that your default network is ready? still waiting for readinessindicatorfile @ /host/run/multus/cni/net.d/10-calico.conflist. pollimmediate error: timed out waiting for the condition",
    "aws-ipamd-unreachable": "add cmd: failed to connect to backend server: context deadline exceeded",
    "aws-no-ip-assigned": "add cmd: failed to assign an IP address to container",
    "tuning-allowlist-unreadable": "open /etc/cni/tuning/allowlist.conf: permission denied",
    "tuning-sysctl-not-allowed": "Sysctl net.ipv4.conf.eth0.forwarding is not allowed. Only the following sysctls are allowed: [^net\\.ipv4\\.conf\\.IFNAME\\.arp_filter$]",
    "netplugin-killed": "netplugin failed with no error message: signal: killed",
    "master-link-not-found": 'failed to lookup master "ens5": Link not found',
}


@pytest.mark.parametrize("family", sorted(BARE))
def test_field_family_recognised_in_every_runtime_wrapping(family: str) -> None:
    """containerd (event and logrus), CRI-O, dockershim, Multus, podman, a JSON event dump."""
    for variant in _variants(BARE[family]):
        top = explain(variant).matches
        assert top and top[0].entry.id == family, variant


@pytest.mark.parametrize("record", LOOKALIKES, ids=[r["source"][:60] for r in LOOKALIKES])
def test_lookalike_from_another_tool_is_not_claimed(record: Dict[str, Any]) -> None:
    claimed = [m.entry.id for m in explain(record["text"]).matches if m.entry.id in FIELD_FAMILIES]
    assert not claimed, claimed


def test_field_families_cite_upstream_sources_only() -> None:
    for entry in entries():
        if entry.id not in FIELD_FAMILIES:
            continue
        assert any(UPSTREAM.match(ref) for ref in entry.references), entry.id
        for ref in entry.references:
            assert "/work/" not in ref and "facts.md" not in ref and "anchors.md" not in ref, ref


def test_node_check_kinds_and_causes_exist() -> None:
    for entry in entries():
        for check in entry.node_checks:
            assert check.kind in NODE_CHECK_KINDS, entry.id
            assert 0 <= check.cause < len(entry.causes), entry.id
            assert check.path or check.path_var or check.var, entry.id


def test_cause_is_claimed_only_on_the_evidence() -> None:
    empty = explain('failed to lookup master "": Link not found').matches[0]
    named = explain('failed to lookup master "ens5": Link not found').matches[0]
    assert "is empty" in empty.causes[0].text and len(empty.causes) == 1
    assert "ens5" in named.causes[0].text and len(named.causes) == 1
    timeout = explain(BARE["calico-clusterinfo-unreachable"]).matches[0]
    assert "kube-proxy" in timeout.causes[0].text and len(timeout.causes) == 1


# --------------------------------------------------------------------------- multi-line input
DESCRIBE = """\
Events:
  Type     Reason                  Age                From               Message
  ----     ------                  ----               ----               -------
  Normal   Scheduled               2m                 default-scheduler  Successfully assigned default/web-0 to node-2
  Warning  FailedCreatePodSandBox  2m                 kubelet            Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "92af7c41c8a6": plugin type="cilium-cni" name="cilium" failed (add): unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout: Get "http:///var/run/cilium/cilium.sock/v1/config": dial unix /var/run/cilium/cilium.sock: connect: no such file or directory
Is the agent running?
  Normal   SandboxChanged          2m (x2 over 2m)    kubelet            Pod sandbox changed, it will be killed and re-created.
  Warning  FailedCreatePodSandBox  90s                kubelet            Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "1c5275838d3a": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory
  Warning  FailedCreatePodSandBox  60s                kubelet            Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3c05350cf571": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory
"""
# The shape of kubesphere/kubekey#2504's journal excerpt: a teardown error, a calico-node
# crash loop, an unrelated info line.
JOURNAL = """\
Mar 10 11:23:25 master01 kubelet[30360]: E0310 11:23:25.118774   30360 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \\"KillPodSandbox\\" for \\"df5850ac-71ea\\" with KillPodSandboxError: \\"rpc error: code = Unknown desc = failed to destroy network for sandbox \\\\\\"e7ca2caab400\\\\\\": plugin type=\\\\\\"calico\\\\\\" failed (delete): stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/\\"" pod="kube-system/calico-kube-controllers-75c587cc8d-jf892"
Mar 10 11:23:26 master01 kubelet[30360]: I0310 11:23:26.740841   30360 scope.go:117] "RemoveContainer" containerID="fc52f2ad6f4d"
Mar 10 11:23:26 master01 kubelet[30360]: E0310 11:23:26.741035   30360 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"calico-node\\" with CrashLoopBackOff: \\"back-off 10s restarting failed container=calico-node pod=calico-node-fp44f_kube-system(45208a7b)\\"" pod="kube-system/calico-node-fp44f"
Mar 10 11:23:27 master01 kubelet[30360]: E0310 11:23:27.099796   30360 remote_runtime.go:222] "StopPodSandbox from runtime service failed" err="rpc error: code = Unknown desc = failed to destroy network for sandbox \\"aa11bb22cc33\\": plugin type=\\"calico\\" failed (delete): error getting ClusterInformation: connection is unauthorized: Unauthorized"
"""


def _families(groups: List[Any]) -> List[str]:
    return [g.explanation.matches[0].entry.id if g.explanation.matches else "?" for g in groups]


def test_describe_excerpt_gives_one_explanation_per_distinct_error() -> None:
    groups = explain_events(DESCRIBE)
    assert _families(groups) == ["cilium-agent-unreachable", "flannel-subnet-env"]
    cilium, flannel = groups
    assert cilium.explanation.text.endswith("Is the agent running?")  # the hint belongs to its event
    assert "SandboxChanged" not in cilium.explanation.text
    assert flannel.line_numbers == (8, 9)  # two sandboxes, one error


def test_no_event_is_stitched_from_several_records() -> None:
    for text in (DESCRIBE, JOURNAL):
        for _, event in split_events(text.splitlines()):
            assert len(re.findall(r"(?m)^(?:\s*(?:Warning|Normal)\s|[A-Z][a-z]{2} \d)", event)) == 1, event


def test_journal_excerpt_is_split_per_record() -> None:
    groups = explain_events(JOURNAL)
    assert _families(groups) == ["calico-nodename-missing", "calico-unauthorized"]
    assert groups[0].explanation.context.step == "delete"
    assert [g.line_numbers for g in groups] == [(1,), (4,)]


def test_terminal_wrapped_message_stays_one_event() -> None:
    """A message broken over lines (the shape posted in k3d-io/k3d#1258 write-ups) is one event."""
    wrapped = (
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network\n"
        'for sandbox "1c5275838d3a": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed:\n'
        "open /run/flannel/subnet.env: no such file or directory\n"
    )
    events = split_events(wrapped.splitlines())
    assert len(events) == 1
    top = explain(events[0][1]).matches[0]
    assert top.entry.id == "flannel-subnet-env" and top.variables["subnet_file"] == "/run/flannel/subnet.env"


def test_two_bare_errors_on_consecutive_lines_are_two_events() -> None:
    text = (
        'plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: Unauthorized\n'
        "open /etc/cni/tuning/allowlist.conf: permission denied\n"
    )
    assert _families(explain_events(text)) == ["calico-unauthorized", "tuning-allowlist-unreadable"]


def test_cli_explains_a_pasted_excerpt_per_event() -> None:
    result = run_cli(["explain", "--no-check", "--format", "json", DESCRIBE])
    data = json.loads(result.output)
    assert [g["explanation"]["matches"][0]["id"] for g in data["groups"]] == [
        "cilium-agent-unreachable",
        "flannel-subnet-env",
    ]
    assert result.exit_code == 0


# --------------------------------------------------------------------------- --check: node state
FLANNEL = (
    'failed to setup network for sandbox "3c05350cf571": plugin type="flannel" failed (add): '
    "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory"
)


def _write(root: Path, path: str, text: str = "") -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def test_missing_subnet_env_is_the_cause_present_here(tmp_path: Path) -> None:
    result = explain(FLANNEL)
    view = check_node(result, str(tmp_path / "etc/cni/net.d"), probe=False, host_root=str(tmp_path))
    assert view.verdict == "cause-present"
    assert [c["text"] for c in view.confirmed] == ["/run/flannel/subnet.env does not exist"]
    text = render_blocks(explanation_blocks(result, view))
    assert "The cause is present here:\n  /run/flannel/subnet.env does not exist" in text
    assert "<- present on this node: /run/flannel/subnet.env does not exist" in text  # tied to cause 1


def test_subnet_env_written_by_flanneld_clears_the_cause(tmp_path: Path) -> None:
    # what flannel-io/flannel:pkg/subnet/subnet.go@v0.28.9 WriteSubnetFile writes
    _write(
        tmp_path,
        "/run/flannel/subnet.env",
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
    )
    state = node_state(explain(FLANNEL), str(tmp_path))
    assert not state.confirmed
    assert state.notes and "exists here now" in state.notes[0]
    incomplete = explain("loadFlannelSubnetEnv failed: /run/flannel/subnet.env is missing FLANNEL_SUBNET")
    assert not node_state(incomplete, str(tmp_path)).confirmed


def test_subnet_env_without_subnet_line_is_present(tmp_path: Path) -> None:
    _write(tmp_path, "/run/flannel/subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=1450\n")
    state = node_state(
        explain("loadFlannelSubnetEnv failed: /run/flannel/subnet.env is missing FLANNEL_SUBNET"), str(tmp_path)
    )
    assert [c["text"] for c in state.confirmed] == ["/run/flannel/subnet.env has no FLANNEL_SUBNET line"]


def test_calico_nodename_uses_the_path_the_error_names(tmp_path: Path) -> None:
    text = "stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/"
    assert node_state(explain(text), str(tmp_path)).confirmed[0]["text"] == "/var/lib/calico/nodename does not exist"
    _write(tmp_path, "/var/lib/calico/nodename", "node-2")
    assert not node_state(explain(text), str(tmp_path)).confirmed


def test_cilium_socket_is_found_through_run(tmp_path: Path) -> None:
    """/var/run is a link to /run on the host; under --host-root the socket may only show at /run."""
    result = explain(BARE["cilium-agent-unreachable"])
    assert node_state(result, str(tmp_path)).confirmed[0]["text"] == "/var/run/cilium/cilium.sock does not exist"
    _write(tmp_path, "/run/cilium/cilium.sock")
    assert not node_state(result, str(tmp_path)).confirmed


def test_tuning_allowlist_behind_a_0700_dir_is_present(tmp_path: Path) -> None:
    allowlist = _write(tmp_path, "/etc/cni/tuning/allowlist.conf", "^net\\.core\\.somaxconn$\n")
    allowlist.chmod(0o644)
    (tmp_path / "etc/cni/tuning").chmod(0o755)
    (tmp_path / "etc").chmod(0o755)
    (tmp_path / "etc/cni").chmod(0o700)  # nerdctl v1.2.0 release note: /etc/cni created 0700
    try:
        state = node_state(explain(BARE["tuning-allowlist-unreadable"]), str(tmp_path))
        assert [c["text"] for c in state.confirmed] == ["/etc/cni cannot be traversed by non-root users (mode 0o700)"]
        (tmp_path / "etc/cni").chmod(0o755)
        assert not node_state(explain(BARE["tuning-allowlist-unreadable"]), str(tmp_path)).confirmed
    finally:
        (tmp_path / "etc/cni").chmod(0o755)


def test_macvlan_master_is_looked_up_in_sysfs(tmp_path: Path) -> None:
    (tmp_path / "sys/class/net/eth0").mkdir(parents=True)
    missing = node_state(explain('failed to lookup master "ens5": Link not found'), str(tmp_path))
    assert [c["text"] for c in missing.confirmed] == ["no interface named ens5 on this node (/sys/class/net/ens5)"]
    assert not node_state(explain('failed to lookup master "eth0": Link not found'), str(tmp_path)).confirmed


def test_node_state_is_checked_without_a_config_dir(tmp_path: Path) -> None:
    view = check_node(explain(FLANNEL), str(tmp_path / "no-such-dir"), probe=False, host_root=str(tmp_path))
    assert view.checked and view.verdict == "cause-present"


def test_families_without_node_checks_keep_their_verdict(tmp_path: Path) -> None:
    before = os.listdir(tmp_path)
    view = check_node(
        explain(BARE["calico-unauthorized"]), str(tmp_path / "nope"), probe=False, host_root=str(tmp_path)
    )
    assert view.verdict == "not-checked"
    assert os.listdir(tmp_path) == before  # read only
