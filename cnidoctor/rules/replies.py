"""CNI501-509: what a plugin answers to CNI_COMMAND=VERSION, judged as the runtime's libcni does.

Emitted by the node stage through ``probe_findings`` (probe.py has the probe, probedecode.py
the decoding). Who asks VERSION in production: CRI-O/ocicni and kubelet dockershim (>= 1.16)
validate every config file with it and skip the file when it fails; containerd/go-cni never
asks (containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)). Version cross-checks against configs are CNI51x (rules/skew.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from ..model import Finding, Rule, Severity
from ..versions import SPEC_VERSIONS

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.probe import ProbeResult

DECODER_GO = "cni@v1.1.2 pkg/version/plugin.go:64-83 (PluginDecoder.Decode)"
GETVERSION_GO = "cni@v1.1.2 pkg/invoke/exec.go:151-173 (GetVersionInfo)"
RAW_EXEC_GO = "cni@v0.8.0 pkg/invoke/raw_exec.go:72-84 (pluginErr)"
WHO_ASKS = (
    "CRI-O and kubelet dockershim (>= 1.16) skip the config file that uses this plugin "
    "(ValidateNetworkList); containerd does not ask VERSION and is unaffected"
)

VERSION_PROBE_FAILED = Rule(
    code="CNI501",
    name="version-probe-failed",
    severity=Severity.ERROR,
    summary="The plugin's VERSION reply is rejected by libcni (empty, garbage, error, crash)",
    meaning=(
        "libcni runs the plugin with CNI_COMMAND=VERSION and decodes stdout as "
        '{"cniVersion", "supportedVersions"}. An empty reply, non-JSON output (a banner, a '
        "log line), a JSON error object, a reply without `cniVersion`, or without "
        '`supportedVersions` (unless cniVersion is exactly "0.2.0"), a non-zero exit or a '
        "crash makes the probe fail. " + WHO_ASKS + ". Typical culprits are vendor wrapper "
        "scripts that only handle ADD/DEL."
    ),
    example='#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] && exec /opt/vendor/real-plugin\nexit 0   # VERSION prints nothing',
    correct_example='#!/bin/sh\nexec /opt/vendor/real-plugin "$@"   # VERSION answered by the real plugin',
    when_to_ignore="On containerd only, which never sends VERSION; CRI-O and dockershim skip the file.",
    fix=(
        "Make the plugin (or wrapper) answer VERSION like skel does, e.g. "
        '`{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}`, or '
        "upgrade it; check its stderr for a crash."
    ),
    runtime_errors=(
        "decoding version info: unexpected end of JSON input",
        "decoding version info: missing field cniVersion",
        "decoding version info: missing field supportedVersions",
        "netplugin failed with no error message: exit status 1",
        'netplugin failed: "<stderr>"',
        'netplugin failed but error parsing its diagnostic message "<stdout>": <json error>',
    ),
    references=(
        DECODER_GO,
        RAW_EXEC_GO,
        "containernetworking/cni:pkg/version/plugin.go@v1.3.0 (PluginDecoder); containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0",
    ),
)

PROBE_TIMEOUT = Rule(
    code="CNI502",
    name="probe-timeout",
    severity=Severity.ERROR,
    summary="The plugin did not finish VERSION in time (hangs, floods, or a child holds stdout)",
    meaning=(
        "VERSION needs no network state and returns instantly for every reference plugin. A "
        "plugin that blocks (waiting on a daemon socket), loops printing, or starts a helper "
        "that inherits stdout makes the runtime's call wait: Go's exec waits for stdout to "
        "close, so a helper holding it keeps the runtime waiting past its own timeout ("
        "containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0; Go os/exec (Wait waits for stdout to close)); when the runtime's context does kill it the error ends in `signal: killed`. "
        "cnidoctor killed the plugin's whole process group after --probe-timeout."
    ),
    example="a plugin wrapper that runs `helperd &` without redirecting its output before answering",
    correct_example="a plugin wrapper that runs `helperd >/dev/null 2>&1 &` before answering",
    when_to_ignore="Never: the runtime waits for the same stdout to close.",
    fix=(
        "Fix the plugin to answer VERSION without side effects; daemons it starts must detach "
        "stdin/stdout/stderr (`helperd </dev/null >/dev/null 2>&1 &`). Raise --probe-timeout only "
        "if the node is known to be overloaded."
    ),
    runtime_errors=("netplugin failed with no error message: signal: killed",),
    references=(
        RAW_EXEC_GO,
        "containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0; Go os/exec (Wait waits for stdout to close)",
    ),
)

LEGACY_VERSION_REPLY = Rule(
    code="CNI503",
    name="legacy-version-reply",
    severity=Severity.WARNING,
    summary='The plugin answers VERSION with only {"cniVersion":"0.2.0"}: it supports 0.1.0 and 0.2.0 only',
    meaning=(
        "Plugins built on CNI's skel between containernetworking/cni@63755d7 "
        '("pkg/skel: plugins now respond to VERSION command", 2016-07) and @536cb5b ("plugins report a list of supported '
        'versions", 2016-08), a window no release tag contains, reply just `{"cniVersion":"0.2.0"}` '
        "(containernetworking/cni:pkg/version/version.go@63755d7 (BasicVersioner)). Skel v0.3.0 and older "
        "know no VERSION command (CNI504); from v0.4.0 on skel always sends `supportedVersions` "
        "(containernetworking/cni:pkg/version/plugin.go@v0.4.0 (PluginInfo)), so no tagged release of "
        'the reference plugins sends it. libcni accepts the bare reply as supporting ["0.1.0", '
        '"0.2.0"] exactly (containernetworking/cni:pkg/version/plugin.go@v1.3.0 (PluginDecoder)). A config '
        "with cniVersion >= 0.3.0 is then rejected by libcni validation (CRI-O, dockershim: CNI511). "
        "containerd does not validate, and this skel checks no version on ADD/DEL "
        "(containernetworking/cni:pkg/skel/skel.go@63755d7 (pluginMain)), so the plugin still runs, but its "
        "results carry no cniVersion (CNI512 when chained on libcni v1.0.0-v1.1.0). libcni >= v1.1.1 "
        "labels such a result with the list's version (containernetworking/cni:pkg/invoke/exec.go@v1.1.1 "
        "(fixupResultVersion)), <= v0.8 re-types it by the config's: for a list >= 0.3.0 its `ip4`/`ip6` "
        "are dropped, and containerd, which needs an IP on the pod's interface, fails every pod "
        '(`failed to find network info for sandbox "<id>"`, containerd/containerd:pkg/cri/server/'
        "sandbox_run.go@v1.7.27 (setupPodNetwork); measured with real daemons)."
    ),
    example='$ CNI_COMMAND=VERSION /opt/cni/bin/old-plugin\n{"cniVersion":"0.2.0"}',
    correct_example='$ CNI_COMMAND=VERSION /opt/cni/bin/plugin\n{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}',
    when_to_ignore="When every config using the plugin declares 0.1.0 or 0.2.0.",
    fix="Upgrade the plugin to a release built on a current libcni (reference plugins >= v1.0).",
    runtime_errors=('plugin X does not support config version "V"', "failed to find network info for sandbox %q"),
    references=(
        DECODER_GO,
        "containernetworking/cni:pkg/version/plugin.go@v1.3.0 (PluginDecoder); containernetworking/plugins:go.mod at each release tag; containernetworking/plugins:plugins/meta/{bandwidth,firewall,vrf}@v1.9.1 (supported versions)",
        "containernetworking/cni:pkg/version/version.go@63755d7 (BasicVersioner); "
        "containernetworking/cni@536cb5b (supportedVersions); containernetworking/cni:pkg/version/plugin.go@v0.4.0 (PluginInfo)",
    ),
)

VERSION_COMMAND_UNKNOWN = Rule(
    code="CNI504",
    name="version-command-unknown",
    severity=Severity.WARNING,
    summary="The plugin does not know the VERSION command: libcni assumes it supports only 0.1.0",
    meaning=(
        "When a plugin fails VERSION with exactly the error `unknown CNI_COMMAND: VERSION` (and "
        'no details), libcni treats it as supporting ["0.1.0"] only (an exact string match). '
        "Configs declaring any later cniVersion then fail libcni validation (CRI-O, dockershim) "
        "although ADD may still work on containerd (containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo)). Such plugins predate CNI "
        "spec 0.2.0 or use their own command dispatcher."
    ),
    example='$ CNI_COMMAND=VERSION /opt/cni/bin/ancient\n{"code":100,"msg":"unknown CNI_COMMAND: VERSION"}',
    correct_example='$ CNI_COMMAND=VERSION /opt/cni/bin/plugin\n{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}',
    when_to_ignore="When every config using the plugin declares 0.1.0 and the runtime is containerd.",
    fix="Upgrade the plugin, or have it implement VERSION.",
    runtime_errors=("unknown CNI_COMMAND: VERSION", 'plugin X does not support config version "V"'),
    references=(
        GETVERSION_GO,
        "containernetworking/cni:pkg/version/plugin.go@v1.3.0 (PluginDecoder); containernetworking/cni:pkg/skel/skel.go@v1.3.0; containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo)",
    ),
)

PROBE_NOT_RUN = Rule(
    code="CNI505",
    name="probe-not-run",
    severity=Severity.INFO,
    summary="cnidoctor could not run the plugin from where it runs, so its VERSION reply is unknown",
    meaning=(
        "The runtime runs plugins as root, on the node. When cnidoctor runs unprivileged and a "
        "plugin is executable only by root (mode 0700/0750), the probe is skipped rather than "
        "guessed. When cnidoctor reads the node under --host-root from inside a container (a "
        "DaemonSet pod, `kubectl debug node/...`), a plugin the node runs may not run from the "
        "container: a dynamically linked plugin whose loader (ELF PT_INTERP) or a script whose "
        "`#!` interpreter exists on the node but not in the container makes the kernel refuse it "
        "there with ENOENT (execve(2)); such a plugin is reported here, not as broken (CNI406 "
        "stays for a loader missing on the node itself). Either way the version cross-checks and "
        "the prediction for this plugin stay unknown, and `--format npd` exits 2 (Unknown) when "
        "no error decides on its own."
    ),
    example=(
        "-rwx------ root root /opt/cni/bin/bridge, cnidoctor run as an ordinary user; or\n"
        "/host/opt/cni/bin/bridge needs /lib64/ld-linux-x86-64.so.2, which the node has and the "
        "cnidoctor container (static or musl image) lacks"
    ),
    correct_example=(
        "run cnidoctor as root on the node, or in a container that can run the node's plugins "
        "(static plugins, or an image with the node's C library)"
    ),
    when_to_ignore=(
        "When you cannot run as root or on the node and accept that VERSION-based checks are skipped "
        "(`--ignore CNI505` also makes `--format npd` report OK instead of Unknown)."
    ),
    fix=(
        "Run cnidoctor as root (e.g. `sudo cnidoctor check`) on the node itself, or in the node's "
        "privileged debug pod with the host's loader available (`kubectl debug node/NAME -it "
        "--image=...` then `chroot /host cnidoctor check`)."
    ),
    runtime_errors=(),
    references=(
        "containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)",
        "execve(2) ENOENT (missing ELF interpreter); Linux fs/binfmt_elf.c, fs/binfmt_script.c",
    ),
)

NONSTANDARD_SUPPORTED_VERSIONS = Rule(
    code="CNI506",
    name="nonstandard-supported-versions",
    severity=Severity.WARNING,
    summary='supportedVersions lists strings that are not CNI spec versions (e.g. "1.0", "v1.0.0")',
    meaning=(
        "libcni accepts the list without validating it, but both its validation and the "
        'plugin\'s own skel compare version strings exactly: a plugin listing "1.0" does not '
        'support a config declaring "1.0.0". Entries outside the spec\'s list (0.1.0 .. 1.1.0) '
        "usually reveal a hand-written VERSION reply."
    ),
    example='{"cniVersion":"1.0.0","supportedVersions":["0.4","1.0"]}',
    correct_example='{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}',
    when_to_ignore="When no config ever declares a version the plugin lists only in a nonstandard spelling.",
    fix='Reply the exact spec version strings ("0.4.0", "1.0.0").',
    runtime_errors=('plugin X does not support config version "V"',),
    references=(
        DECODER_GO,
        "containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList) (validatePlugin compares strings exactly), containernetworking/cni:SPEC.md at the spec-v0.1.0 ... spec-v1.1.0 tags",
    ),
)

RULES: Tuple[Rule, ...] = (
    VERSION_PROBE_FAILED,
    PROBE_TIMEOUT,
    LEGACY_VERSION_REPLY,
    VERSION_COMMAND_UNKNOWN,
    PROBE_NOT_RUN,
    NONSTANDARD_SUPPORTED_VERSIONS,
)


def _accepted_findings(result: ProbeResult, plugin_type: str, file: Optional[str], pointer: str) -> List[Finding]:
    out: List[Finding] = []
    if result.legacy and result.cni_version == "0.2.0":
        out.append(
            LEGACY_VERSION_REPLY.at(
                file,
                pointer,
                f"plugin {plugin_type!r} ({result.path}) replies only cniVersion 0.2.0: "
                "libcni takes it as supporting 0.1.0 and 0.2.0 only",
                plugin=plugin_type,
            )
        )
    elif result.legacy:
        out.append(
            VERSION_COMMAND_UNKNOWN.at(
                file,
                pointer,
                f"plugin {plugin_type!r} ({result.path}) does not know VERSION: libcni "
                "takes it as supporting 0.1.0 only",
                plugin=plugin_type,
            )
        )
    odd = [v for v in result.supported if v not in SPEC_VERSIONS]
    if odd and not result.legacy:
        out.append(
            NONSTANDARD_SUPPORTED_VERSIONS.at(
                file,
                pointer,
                f"plugin {plugin_type!r} ({result.path}) lists non-spec versions "
                f"{', '.join(repr(v) for v in odd)} in supportedVersions",
                plugin=plugin_type,
            )
        )
    return out


def probe_findings(result: ProbeResult, plugin_type: str, file: Optional[str], pointer: str) -> Tuple[Finding, ...]:
    """CNI501-506 for one probe. Predicted exec failures (not executed) are CNI40x, not here."""
    if result.ok:
        return tuple(_accepted_findings(result, plugin_type, file, pointer))
    if not result.executed and result.error is None:
        return (
            PROBE_NOT_RUN.at(
                file, pointer, f"plugin {plugin_type!r} ({result.path}): {result.detail}", plugin=plugin_type
            ),
        )
    if not result.executed:
        return ()  # cannot exec: resolution_findings (CNI404-407) carries it with the same text
    if result.timed_out:
        message = f"plugin {plugin_type!r} ({result.path}) did not answer VERSION: {result.detail}"
        return (PROBE_TIMEOUT.at(file, pointer, message, plugin=plugin_type, predicts=result.error),)
    message = f"plugin {plugin_type!r} ({result.path}) gives a VERSION reply libcni rejects; {WHO_ASKS}"
    finding = VERSION_PROBE_FAILED.at(file, pointer, message, plugin=plugin_type, predicts=result.error)
    return (finding,)
