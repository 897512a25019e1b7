"""What the kubelet sees from the runtime (issue 9, miss class 7), per runtime release.

libcni's error (a step's ``error``) is not what an operator reads in ``kubectl describe`` or the
kubelet's log: the runtime wraps it, keeps some of it to its own log, or answers with a
different text altogether. This module is the one table of those texts, keyed by runtime
release range, and the function that puts them on a prediction's steps:

* ``kubelet_error``: the text the kubelet receives over CRI (a RunPodSandbox/StopPodSandbox
  error, or the message of the runtime's ``NetworkReady`` condition), with ``<sandbox-id>``
  standing for the value only a real pod has;
* ``runtime_log``: a text that only reaches the runtime's own log and status info (containerd's
  ``lastCNILoadStatus``, what ``crictl info`` prints), never the kubelet;
* ``kubelet_note``: what else the release does around it (teardown of a failed sandbox, a
  RunPodSandbox that waits, concurrent attach);
* ``kubelet_alternatives``: other texts the kubelet may see instead, run to run.

The texts were observed with real daemons driven through the CRI API (containerd 1.6.20,
1.7.11, 1.7.13, 1.7.20, 1.7.27, 1.7.34, 2.1.1, 2.1.3, 2.2.1, 2.2.7; CRI-O 1.18.4, 1.28.2); each row
cites the upstream lines that produce them, and rows for releases that were not run rest on
those lines alone (``measured`` lists the ones that were).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Dict, Literal, Optional, Tuple

from ..frozen import dataclass
from ..model import Prediction, Step, StepName

# How a sandbox whose ADD failed is cleaned up when its CNI DEL fails too:
# "stuck": it stays SANDBOX_NOTREADY and every StopPodSandbox/RemovePodSandbox fails with the
#   DEL error (containerd/containerd:pkg/cri/server/sandbox_stop.go@v1.7.13 :101 tears the network
#   down unconditionally);
# "removable": it stays NOTREADY, Stop/Remove succeed (sandbox_stop.go@v1.7.23 :108 skips the
#   teardown of a sandbox without a CNI result; backported as v1.6.37);
# "removed": RunPodSandbox itself ignores the failed DEL and removes the sandbox
#   (containerd/containerd:internal/cri/server/sandbox_run.go@v2.0.0 :224-226, "ignoring failed
#   to destroy networks when we failed to setup networks").
Teardown = Literal["stuck", "removable", "removed", "none"]
# How the runtime's own loopback network and the default network are attached at pod start:
# "serial": loopback first, its error wins; "concurrent": at the same time, whichever error comes
# back first is returned (go-cni attachNetworks since v1.1.1, containerd/go-cni:cni.go@v1.1.9
# :210-231, used unless setup_serially = true), though real 1.6/1.7 daemons reported loopback's;
# "varies": concurrent, and real daemons (2.1, 2.2) reported either error from run to run.
Attach = Literal["serial", "concurrent", "varies"]

SANDBOX = "<sandbox-id>"
CRI_UNIMPLEMENTED = "rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService"
NOT_INITIALIZED = "cni plugin not initialized"


@dataclass(frozen=True)
class KubeletView:
    """What one range of releases of one runtime shows the kubelet, and what it keeps to itself."""

    runtime: str
    first: str
    last: str
    # the kubelet's text when no network config is loaded ({conf_dir}, {error}: the load error)
    not_loaded: str
    # where the load error itself appears ("" when the kubelet sees it)
    load_error_where: str
    attach: Attach
    teardown: Teardown
    # RunPodSandbox blocks until a network config appears instead of failing (CRI-O >= 1.22)
    waits_for_network: bool
    measured: Tuple[str, ...]
    sources: Tuple[str, ...]

    def contains(self, version: str) -> bool:
        return _key(self.first) <= _key(version) <= _key(self.last)


# containerd's RunPodSandbox / StopPodSandbox errors around libcni's ADD / DEL error (the same
# format string in every release since 1.3; the rows cite the lines)
SETUP = 'failed to setup network for sandbox "' + SANDBOX + '": {error}'
DESTROY = 'failed to destroy network for sandbox "' + SANDBOX + '": {error}'
# containerd's setupPodNetwork after a successful libcni ADD when go-cni's result has no IP for
# the pod's interface (`eth0`): the same words in every release since 1.3
# (containerd/containerd:vendor/github.com/containerd/cri/pkg/server/sandbox_run.go@v1.3.0 :587,
# @v1.4.0 :342; containerd/containerd:pkg/cri/server/sandbox_run.go@v1.6.20 :462, @v1.7.13 :568,
# @v1.7.27 :572; containerd/containerd:internal/cri/server/sandbox_run.go@v2.1.1 :436, @v2.2.7 :448),
# returned through SETUP (measured: runtime-facts §11's real daemons, wording verified in the
# tags above); go-cni builds the interface map from the typed results
# (containerd/go-cni:result.go@v1.1.9 (createResult)).
NO_NETWORK_INFO = 'failed to find network info for sandbox "' + SANDBOX + '"'
_NO_IP_NOTE = (
    "containerd fails RunPodSandbox, tears the pod network down again (CNI DEL) and the kubelet retries; "
    "the pod stays ContainerCreating"
)
_CTRD_1 = "containerd/containerd:pkg/cri/server/sandbox_run.go@{tag} ({line}: failed to setup network for sandbox %q)"
_CTRD_2 = (
    "containerd/containerd:internal/cri/server/sandbox_run.go@{tag} ({line}: failed to setup network for sandbox %q)"
)
_STATUS = "containerd/containerd:pkg/cri/server/status.go@{tag} (Network plugin returns error: %v; lastCNILoadStatus)"
_GO_CNI_STATUS = "containerd/go-cni:cni.go@v1.1.9 (Status: ErrCNINotInitialized; Load: cni config load failed: %v: %w)"


def _containerd(
    first: str, last: str, attach: Attach, teardown: Teardown, measured: Tuple[str, ...], sources: Tuple[str, ...]
) -> KubeletView:
    return KubeletView(
        "containerd",
        first,
        last,
        NOT_INITIALIZED,
        "containerd's log and lastCNILoadStatus (crictl info)",
        attach,
        teardown,
        False,
        measured,
        sources,
    )


def _crio(first: str, last: str, waits: bool, measured: Tuple[str, ...], sources: Tuple[str, ...]) -> KubeletView:
    return KubeletView(
        "crio",
        first,
        last,
        "Network plugin returns error: {error}",
        "",
        "serial",
        "none",
        waits,
        measured,
        sources,
    )


VIEWS: Tuple[KubeletView, ...] = (
    _containerd(
        "1.3.0",
        "1.5.99",
        "serial",
        "stuck",
        (),
        ("containerd/go-cni:cni.go@v1.0.2 (attachNetworks: one network after the other)",),
    ),
    _containerd(
        "1.6.0",
        "1.6.36",
        "concurrent",
        "stuck",
        ("1.6.20",),
        (
            _CTRD_1.format(tag="v1.6.20", line=":326"),
            "containerd/containerd:pkg/cri/server/sandbox_stop.go@v1.6.20 (:95 failed to destroy network for sandbox %q)",
            _STATUS.format(tag="v1.6.20"),
            _GO_CNI_STATUS,
        ),
    ),
    _containerd(
        "1.6.37",
        "1.6.39",
        "concurrent",
        "removable",
        (),
        ("containerd/containerd:pkg/cri/server/sandbox_stop.go@v1.6.39 (:101 if sandbox.CNIResult != nil)",),
    ),
    _containerd(
        "1.7.0",
        "1.7.22",
        "concurrent",
        "stuck",
        ("1.7.11", "1.7.13", "1.7.20"),
        (
            _CTRD_1.format(tag="v1.7.13", line=":337"),
            "containerd/containerd:pkg/cri/server/sandbox_stop.go@v1.7.13 (:101 failed to destroy network for sandbox %q)",
            _STATUS.format(tag="v1.7.13"),
            _GO_CNI_STATUS,
        ),
    ),
    _containerd(
        "1.7.23",
        "1.7.99",
        "concurrent",
        "removable",
        ("1.7.27", "1.7.34"),
        (
            _CTRD_1.format(tag="v1.7.27", line=":339"),
            "containerd/containerd:pkg/cri/server/sandbox_stop.go@v1.7.27 (:110 if sandbox.CNIResult != nil; "
            "containerd/containerd 278bd0f7)",
            _STATUS.format(tag="v1.7.27"),
        ),
    ),
    _containerd(
        "2.0.0",
        "2.99.99",
        "varies",
        "removed",
        ("2.1.1", "2.1.3", "2.2.1", "2.2.7"),
        (
            _CTRD_2.format(tag="v2.1.1", line=":262"),
            "containerd/containerd:internal/cri/server/sandbox_run.go@v2.1.1 (:241-247 ignoring failed to destroy "
            "networks when we failed to setup networks)",
            "containerd/containerd:internal/cri/server/status.go@v2.1.1 (:53 Network plugin returns error: %v)",
            "containerd/go-cni:cni.go@v1.1.13 (attachNetworks)",
        ),
    ),
    _crio("1.17.0", "1.21.99", False, ("1.18.4",), ("cri-o/cri-o:server/runtime_status.go@v1.18.4 (:27)",)),
    _crio(
        "1.22.0",
        "1.99.99",
        True,
        ("1.28.2",),
        (
            "cri-o/cri-o:server/runtime_status.go@v1.28.2 (:28 Network plugin returns error: %v)",
            "cri-o/cri-o:server/sandbox_run_linux.go@v1.28.2 (:405-413 CNI plugin not ready. Waiting to create)",
            "cri-o/cri-o:server/sandbox_network.go@v1.33.0 (CNIPluginAddWatcher)",
        ),
    ),
)


def _key(version: str) -> Tuple[int, ...]:
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def view_for(runtime: str, version: str) -> Optional[KubeletView]:
    """The row for ``runtime`` at ``version`` (None: not modelled, e.g. dockershim, libcni)."""
    return next((v for v in VIEWS if v.runtime == runtime and v.contains(version)), None)


# ---------------------------------------------------------------------------------------------
# the steps


def _load(step: Step, view: KubeletView) -> Step:
    if step.outcome != "fail" or not step.error:
        return step
    if view.runtime == "containerd":
        # go-cni's Load resets its networks, so after any load error only `cni-loopback`
        # remains and Status() answers ErrCNINotInitialized (containerd/go-cni:cni.go@v1.1.9
        # :120-144); the load error goes to the log and lastCNILoadStatus only.
        note = (
            "NetworkReady=false with `Network plugin returns error: cni plugin not initialized`: the node is NotReady"
        )
        return replace(step, kubelet_error=NOT_INITIALIZED, runtime_log=step.wrapped or step.error, kubelet_note=note)
    if step.error.lower().startswith(("no cni configuration file", "missing cni default network")):
        note = "NetworkReady=false" + (
            "; RunPodSandbox waits for a network config instead of failing" if view.waits_for_network else ""
        )
        return replace(step, kubelet_error=view.not_loaded.format(error=step.error), kubelet_note=note)
    # CRI-O skips a file that does not load or validate: a log line only
    return replace(step, runtime_log=step.error)


_TEARDOWN_NOTES: Dict[Teardown, str] = {
    "stuck": "a sandbox whose ADD failed stays SANDBOX_NOTREADY and every StopPodSandbox/RemovePodSandbox fails "
    "with this text until the plugin is fixed",
    "removable": "a sandbox whose ADD failed stays SANDBOX_NOTREADY, but StopPodSandbox/RemovePodSandbox succeed "
    "(no CNI DEL for a sandbox without a CNI result)",
    "removed": "containerd removes a sandbox whose ADD failed itself and logs `Failed to destroy network for "
    'sandbox "<sandbox-id>"`; the kubelet sees this text only when stopping a pod whose ADD succeeded',
}


def _del(step: Step, view: KubeletView, add: Optional[Step]) -> Step:
    if step.outcome != "fail" or not step.error:
        return step
    out = replace(step, kubelet_error=step.wrapped or step.error)
    if add is not None and add.outcome == "fail" and view.teardown in _TEARDOWN_NOTES:
        out = replace(out, kubelet_note=_TEARDOWN_NOTES[view.teardown])
    return out


def _add(step: Step, view: KubeletView, without_loopback: Optional[Step]) -> Step:
    if step.outcome != "fail" or not step.error:
        return step
    out = replace(step, kubelet_error=step.wrapped or step.error)
    other = without_loopback
    if step.plugin != "loopback" or view.attach == "serial" or other is None or other.outcome != "fail":
        return out
    if not other.wrapped or other.wrapped == out.kubelet_error:
        return out
    note = (
        f"{view.runtime} attaches its `cni-loopback` network and the default network concurrently "
        "(setup_serially = false): with both broken, the reported error varies from run to run"
        if view.attach == "varies"
        else "go-cni attaches the `cni-loopback` network and the default network concurrently here too "
        "(setup_serially = false), so the default network's error is possible; real daemons of this "
        "series reported loopback's"
    )
    return replace(out, kubelet_alternatives=(other.wrapped,), kubelet_note=note)


def _status(step: Step) -> Step:
    if step.outcome != "fail" or not step.wrapped:
        return step
    return replace(step, kubelet_error=step.wrapped.split("message:", 1)[-1])


def _no_pod_ip(step: Step, view: KubeletView) -> Step:
    """containerd checks the ADD result for an IP on the pod's interface (NO_NETWORK_INFO). CRI-O
    does not: it takes the result's IPs, none included, without an error (cri-o/cri-o:server/
    sandbox_network.go@v1.28.2 (networkStart), @v1.33.0; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3
    (checkNetwork returns the cached result as it is))."""
    if view.runtime != "containerd" or step.outcome != "ok":
        return step
    return replace(step, kubelet_error=SETUP.format(error=NO_NETWORK_INFO), kubelet_note=_NO_IP_NOTE)


def annotate(
    steps: Dict[StepName, Step],
    runtime: str,
    version: str,
    add_without_loopback: Optional[Step] = None,
    no_pod_ip: bool = False,
) -> Dict[StepName, Step]:
    """``steps`` with the kubelet's and the runtime log's texts of ``runtime`` ``version``
    (unchanged when the release is not in the table). ``add_without_loopback``: the ADD step
    with the runtime's loopback network left out, for a release that attaches both at once.
    ``no_pod_ip``: libcni's ADD succeeds, but its final result certainly holds no IP."""
    view = view_for(runtime, version)
    if view is None:
        return steps
    out = dict(steps)
    if "load" in out:
        out["load"] = _load(out["load"], view)
    if "add" in out:
        out["add"] = _add(out["add"], view, add_without_loopback)
        if no_pod_ip:
            out["add"] = _no_pod_ip(out["add"], view)
        if view.runtime == "containerd" and out["add"].error is None and out["load"].kubelet_error == NOT_INITIALIZED:
            # go-cni Setup asks Status() first (containerd/go-cni:cni.go@v1.1.9 :155-158)
            out["add"] = replace(out["add"], kubelet_error=SETUP.format(error=NOT_INITIALIZED))
    if "del" in out:
        out["del"] = _del(out["del"], view, out.get("add"))
    if "status" in out:
        out["status"] = _status(out["status"])
    return out


# ---------------------------------------------------------------------------------------------
# containerd >= 2.1 refusing bin_dir together with bin_dirs


BIN_DIRS_LOG = "invalid plugin config: `cni.bin_dir` and `cni.bin_dirs` cannot be set at the same time"


def cri_plugin_not_loaded(prediction: Prediction) -> Prediction:
    """containerd >= 2.1 with both ``bin_dir`` and ``bin_dirs`` (CNI609): the CRI runtime plugin
    fails to load (containerd/containerd:plugins/cri/runtime/plugin.go@v2.1.1 :65,
    internal/cri/config/config.go@v2.1.1 :639), so no network config is read at all and gRPC
    answers every CRI call of the kubelet with Unimplemented (google.golang.org/grpc server.go
    `unknown service %v`, vendored at containerd/containerd:vendor/google.golang.org/grpc/
    server.go@v2.1.1 :1830)."""
    load = Step(
        "fail",
        BIN_DIRS_LOG,
        detail="the CRI plugin is not loaded: no conf dir is in effect and every CRI call fails; the node goes NotReady",
        kubelet_error=CRI_UNIMPLEMENTED,
        runtime_log=BIN_DIRS_LOG,
        kubelet_note="the same answer for every CRI call (Status, RunPodSandbox, ...): the runtime looks down",
    )
    rest = Step("fail", detail="not reached: containerd's CRI plugin is not loaded")
    steps = tuple(
        (name, load if name == "load" else (step if not step.called else rest)) for name, step in prediction.steps
    )
    return replace(prediction, steps=steps)


__all__ = [
    "CRI_UNIMPLEMENTED",
    "DESTROY",
    "NOT_INITIALIZED",
    "NO_NETWORK_INFO",
    "SETUP",
    "VIEWS",
    "KubeletView",
    "annotate",
    "cri_plugin_not_loaded",
    "view_for",
]
