"""CNI1xx: JSON syntax (Go's encoding/json) and libcni load errors, emitted by parse.py.

Sources: containernetworking/cni:libcni/conf.go@v1.3.0 (ConfListFromBytes); containernetworking/cni:SPEC.md@spec-v1.1.0 (network configuration lists); containernetworking/cni:SPEC.md@spec-v1.0.0 (plugin configuration); containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf); containernetworking/cni:libcni/conf.go@v0.8.1 (ConfListFromBytes, ConfListFromConf); containernetworking/cni:libcni/conf.go@v0.8.1; containernetworking/cni:libcni/conf.go@v1.3.0; Go encoding/json (UnmarshalTypeError); Go encoding/json (src/encoding/json/scanner.go) and #49 (go-cni wrapper), containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); containernetworking/cni:libcni@v0.7.1;
go/src/encoding/json scanner.go and decode.go; cni@v1.1.2 and cni@v1.3.0 libcni/conf.go.
A file libcni rejects gets exactly one of the error rules below; CNI107, CNI115 and CNI117 are
warnings that can accompany a loadable file.
"""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

_CONF_GO = "cni@v1.1.2 libcni/conf.go:44-130 ConfFromBytes/ConfListFromBytes"
_CONF_GO_13 = "cni@v1.3.0 libcni/conf.go:51-245 NetworkPluginConfFromBytes/NetworkConfFromBytes"
_SCANNER_GO = "go/src/encoding/json/scanner.go (checkValid, stateBeginValue, quoteChar)"
_DECODE_GO = "go/src/encoding/json/decode.go (object, literalStore, UnmarshalTypeError)"
_GO_CNI = "go-cni@v1.1.13 opts.go:236-241 loadFromConfDir (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9)"
_OCICNI = "ocicni@v0.5.1 pkg/ocicni/ocicni.go:335-396 (file skipped, logged; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))"
_TYPES_GO = "cni@v1.1.2 pkg/types/types.go:60-90 NetConf, IPAM, DNS"

_WHO_BREAKS = (
    " containerd (go-cni) stops loading at the first file that fails, so when this file sorts "
    "before the intended one the node has no pod network ('cni plugin not initialized'); CRI-O "
    "logs the error and skips the file (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))."
)
_WRAP_LIST = "failed to load CNI config list file %s: %s: invalid cni config"
_WRAP_CONF = "failed to load CNI config file %s: %s: invalid cni config"
_SYNTAX_ERRORS = (
    "error parsing configuration list: invalid character %s",
    "error parsing configuration: invalid character %s",
    "error parsing configuration list: unexpected end of JSON input",
    "error parsing configuration: unexpected end of JSON input",
    _WRAP_LIST,
    _WRAP_CONF,
)

INVALID_JSON = Rule(
    code="CNI101",
    name="invalid-json",
    severity=Severity.ERROR,
    summary="The file is not valid JSON for Go's encoding/json.",
    meaning=(
        "libcni decodes every config file with Go's encoding/json, whose scanner checks the whole "
        "input before decoding anything. Any syntax error (missing comma, unquoted key, single "
        "quotes, truncated file) makes the load fail with 'error parsing configuration list: "
        "invalid character ...' or '... unexpected end of JSON input' (Go encoding/json (src/encoding/json/scanner.go))."
        + _WHO_BREAKS
        + " More specific codes exist for a BOM (CNI102), comments (CNI103), "
        "trailing commas (CNI104), NaN/Infinity (CNI105) and several values (CNI106)."
    ),
    example='{\n  "cniVersion": "1.0.0",\n  "name": "mynet"\n  "plugins": [{"type": "bridge"}]\n}',
    correct_example='{\n  "cniVersion": "1.0.0",\n  "name": "mynet",\n  "plugins": [{"type": "bridge"}]\n}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Fix the JSON at the reported line and column, where the message quotes what Go's decoder "
    "found; check the file with a strict JSON parser such as `python3 -m json.tool`.",
    runtime_errors=_SYNTAX_ERRORS
    + (
        "invalid character %s after object key:value pair",
        "invalid character %s looking for beginning of object key string",
        "invalid character %s looking for beginning of value",
        "unexpected end of JSON input",
    ),
    references=(_SCANNER_GO, _CONF_GO, _GO_CNI, _OCICNI, "Go encoding/json (src/encoding/json/scanner.go)"),
)

UTF8_BOM = Rule(
    code="CNI102",
    name="utf8-bom",
    severity=Severity.ERROR,
    summary="The file starts with a UTF-8 byte order mark, which Go's JSON decoder rejects.",
    meaning=(
        "Editors on Windows (Notepad, PowerShell's Out-File/Set-Content -Encoding UTF8 before "
        "PowerShell 6) write the bytes EF BB BF at the start of a file. Go's encoding/json does "
        "not skip them: the first byte 0xEF is read as the character 'ï' and the load fails with "
        "'invalid character 'ï' looking for beginning of value'." + _WHO_BREAKS
    ),
    example='<EF BB BF>{"cniVersion": "1.0.0", "name": "mynet", "plugins": [...]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [...]}   (saved as UTF-8 without BOM)',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Save the file as UTF-8 without BOM, e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' FILE` or "
    "PowerShell `[IO.File]::WriteAllText(path, text)`.",
    runtime_errors=(
        "error parsing configuration list: invalid character 'ï' looking for beginning of value",
        "error parsing configuration: invalid character 'ï' looking for beginning of value",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(_SCANNER_GO, _CONF_GO, _GO_CNI),
)

JSON_COMMENT = Rule(
    code="CNI103",
    name="json-comment",
    severity=Severity.ERROR,
    summary="The file contains a comment (// or /* */ or #); JSON has no comments.",
    meaning=(
        "Comments are not part of JSON and Go's encoding/json has no lenient mode, so libcni fails "
        "with 'invalid character '/' looking for beginning of value' (or '... beginning of object "
        "key string'). Every example in the CNI spec carries // comments (```jsonc blocks), so "
        "configs copied from the spec break this way (corpus cni--spec-*)." + _WHO_BREAKS
    ),
    example='{\n  "cniVersion": "1.0.0", // the spec version\n  "name": "dbnet",\n  "plugins": [...]\n}',
    correct_example='{\n  "cniVersion": "1.0.0",\n  "name": "dbnet",\n  "plugins": [...]\n}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Delete the comments. To keep notes in a config, use an extra key that the plugins "
    'ignore (e.g. "_comment": "...") inside a plugin object.',
    runtime_errors=(
        "error parsing configuration list: invalid character '/' looking for beginning of value",
        "error parsing configuration list: invalid character '/' looking for beginning of object key string",
        "error parsing configuration: invalid character '/' looking for beginning of value",
        "error parsing configuration: invalid character '/' looking for beginning of object key string",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(
        _SCANNER_GO,
        _CONF_GO,
        "Go encoding/json (src/encoding/json/scanner.go)",
        "SPEC.md examples (```jsonc)",
    ),
)

TRAILING_COMMA = Rule(
    code="CNI104",
    name="trailing-comma",
    severity=Severity.ERROR,
    summary="A comma before a closing } or ]; Go's JSON decoder rejects it.",
    meaning=(
        "Go's scanner expects another key after a comma in an object and another value after a "
        "comma in an array, so a trailing comma fails the load with 'invalid character '}' looking "
        "for beginning of object key string' (objects) or 'invalid character ']' looking for "
        "beginning of value' (arrays). Real outages: kubernetes#53536 (calico policy block), "
        "plugins PR #551 (dhcp README)." + _WHO_BREAKS
    ),
    example='{\n  "type": "bridge",\n  "ipam": {"type": "dhcp",}\n}',
    correct_example='{\n  "type": "bridge",\n  "ipam": {"type": "dhcp"}\n}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Remove the comma before the closing bracket.",
    runtime_errors=(
        "error parsing configuration list: invalid character '}' looking for beginning of object key string",
        "error parsing configuration list: invalid character ']' looking for beginning of value",
        "error parsing configuration: invalid character '}' looking for beginning of object key string",
        "error parsing configuration: invalid character ']' looking for beginning of value",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(
        _SCANNER_GO,
        "Go encoding/json (src/encoding/json/scanner.go)",
        "https://github.com/kubernetes/kubernetes/issues/53536",
        "https://github.com/containernetworking/plugins/pull/551",
    ),
)

NON_FINITE_NUMBER = Rule(
    code="CNI105",
    name="non-finite-number",
    severity=Severity.ERROR,
    summary="NaN, Infinity or a number too large for float64; Go's JSON decoder rejects it.",
    meaning=(
        "JavaScript and Python's json module write NaN/Infinity/-Infinity, but they are not JSON: "
        "Go fails with 'invalid character 'N' looking for beginning of value' (or 'I' ... 'in "
        "numeric literal' after a minus sign). A syntactically valid number outside float64's "
        "range (1e999) fails later, when libcni decodes the list into map[string]interface{}: "
        "'json: cannot unmarshal number 1e999 into Go value of type float64'. For a .conf the "
        "error appears in ConfListFromConf (go-cni: 'failed to convert CNI config file ...')." + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bandwidth", "ingressRate": Infinity}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bandwidth", "ingressRate": 1000000}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Write a finite number (or remove the key); when generating the file from Python use "
    "json.dumps(..., allow_nan=False).",
    runtime_errors=(
        "error parsing configuration list: invalid character 'N' looking for beginning of value",
        "error parsing configuration list: invalid character 'I' looking for beginning of value",
        "error parsing configuration list: invalid character 'I' in numeric literal",
        "error parsing configuration list: json: cannot unmarshal number %s into Go value of type float64",
        "failed to convert CNI config file %s to CNI config list: json: cannot unmarshal number %s "
        "into Go value of type float64: invalid cni config",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(
        _SCANNER_GO,
        _DECODE_GO + " convertNumber",
        _CONF_GO,
        "cni@v1.3.0 libcni/conf.go:423-445 ConfListFromConf",
    ),
)

MULTIPLE_JSON_VALUES = Rule(
    code="CNI106",
    name="multiple-json-values",
    severity=Severity.ERROR,
    summary="The file holds more than one JSON value (e.g. two configs pasted together).",
    meaning=(
        "json.Unmarshal requires exactly one value; anything but whitespace after it fails with "
        "'invalid character '{' after top-level value'. This happens when two configs are "
        "concatenated into one file, or an example file holds alternatives (corpus "
        "whereabouts--doc-sample_config.json)." + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "a", "plugins": [{"type": "bridge"}]}\n'
    '{"cniVersion": "1.0.0", "name": "b", "plugins": [{"type": "macvlan"}]}',
    correct_example='10-a.conflist: {"cniVersion": "1.0.0", "name": "a", "plugins": [{"type": "bridge"}]}\n20-b.conflist: {"cniVersion": "1.0.0", "name": "b", "plugins": [{"type": "macvlan"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Keep one network per file: split the values into separate files (their names decide the "
    "order the runtime reads them) or merge the plugins into one list.",
    runtime_errors=(
        "error parsing configuration list: invalid character '{' after top-level value",
        "error parsing configuration: invalid character '{' after top-level value",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(_SCANNER_GO + " stateEndTop", _CONF_GO),
)

DUPLICATE_KEY = Rule(
    code="CNI107",
    name="duplicate-key",
    severity=Severity.WARNING,
    summary="An object repeats a key; Go silently keeps the last value.",
    meaning=(
        "Go's encoding/json accepts duplicate keys and the last one wins, with no error, so the "
        "file loads - but a reader (or another tool: jq keeps the last, some parsers the first, "
        "some reject) easily believes the first value is in effect. Real case: flannel's 2019 "
        'manifest carried "cniVersion": "0.2.0" and "cniVersion": "0.3.1" after two PRs '
        "merged; Go used 0.3.1 (corpus flannel--kube-flannel-2019-duplicate-cniversion)."
    ),
    example='{"name": "cbr0", "cniVersion": "0.2.0", "cniVersion": "0.3.1", "plugins": [...]}',
    correct_example='{"name": "cbr0", "cniVersion": "0.3.1", "plugins": [...]}',
    when_to_ignore="If you have checked that the last value is the one you mean: Go keeps the last, so the config works, but readers see the first.",
    fix="Delete the occurrence you do not mean; keep exactly one.",
    runtime_errors=(),
    references=(
        _DECODE_GO + " (map and struct fields are overwritten in order)",
        "RFC 8259 §4 (names SHOULD be unique)",
    ),
)

UNRENDERED_TEMPLATE = Rule(
    code="CNI108",
    name="unrendered-template",
    severity=Severity.ERROR,
    summary="The file still contains template placeholders ({{ .X }}, __X__, ${X}, $1, %X%).",
    meaning=(
        "Network add-ons ship their CNI config as a template that an installer renders on the "
        "node (calico install-cni's __CNI_MTU__, Helm/Go {{ .Values }}, kindnet's {{range}}, "
        "weave's $2, rke2's %SERVICE_CIDR%, sed-substituted SUBNET). A file that reaches "
        "/etc/cni/net.d unrendered either is not JSON at all (a placeholder where a bare value "
        "belongs: libcni fails with 'invalid character ...') or passes the placeholder text to the "
        "plugin, which fails at pod creation (an invalid CIDR, version or path). Either way pods "
        "get no network. cnidoctor reports the first placeholder once and skips further checks of "
        "the file, since they would only describe the template."
    ),
    example='{"name": "k8s-pod-network", "cniVersion": "0.3.1",\n'
    ' "plugins": [{"type": "calico", "mtu": __CNI_MTU__, "ipam": {"type": "calico-ipam"}}]}',
    correct_example='{"name": "k8s-pod-network", "cniVersion": "0.3.1",\n "plugins": [{"type": "calico", "mtu": 1440, "ipam": {"type": "calico-ipam"}}]}',
    when_to_ignore="When linting the template itself in a repository; lint the rendered file instead, or ignore the path of the template.",
    fix="Let the installer render the file (check the add-on's install container/DaemonSet logs), "
    "or substitute the placeholders yourself; lint the rendered output, not the template.",
    runtime_errors=_SYNTAX_ERRORS,
    references=(
        "projectcalico/calico:cni-plugin/pkg/install/install.go (__CNI_MTU__ substitution)",
        "Go encoding/json (src/encoding/json/scanner.go)",
        _GO_CNI,
    ),
)

WRONG_JSON_TYPE = Rule(
    code="CNI109",
    name="wrong-json-type",
    severity=Severity.ERROR,
    summary="A key libcni reads has the wrong JSON type (e.g. cniVersion as a number).",
    meaning=(
        "libcni checks the types of the list keys it reads: a non-string name or cniVersion "
        "(\"cniVersion\": 1.0) fails with 'invalid name type float64' / 'invalid cniVersion type "
        "float64', a non-array plugins with 'invalid 'plugins' type ...' (containernetworking/cni:libcni/conf.go@v0.8.1, "
        "#3, #7). Every plugin object is decoded into libcni's NetConf struct, so a wrong type for "
        "type, name, cniVersion, capabilities (map of booleans), ipam (object with a string "
        "type), dns (object with string arrays) or prevResult fails the whole file with Go's "
        "'json: cannot unmarshal <kind> into Go struct field NetConf.<field> of type <T>' "
        "(libcni v1.3.0: PluginConf.<field>; #11)." + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [\n'
    '  {"type": "portmap", "capabilities": {"portMappings": "true"}}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [\n  {"type": "portmap", "capabilities": {"portMappings": true}}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Use the JSON type the spec defines: quote versions and names, use true/false without "
    "quotes in capabilities, make ipam and dns objects and plugins an array.",
    runtime_errors=(
        "error parsing configuration list: invalid name type %s",
        "error parsing configuration list: invalid cniVersion type %s",
        "error parsing configuration list: invalid 'plugins' type %s",
        "failed to parse plugin config %d: error parsing configuration: json: cannot unmarshal %s "
        "into Go struct field NetConf.%s of type %s",
        "failed to parse plugin config %d: error parsing configuration: json: cannot unmarshal %s "
        "into Go struct field PluginConf.%s of type %s",
        "error parsing configuration: json: cannot unmarshal %s into Go struct field NetConf.%s of type %s",
        "json: cannot unmarshal string into Go struct field NetConf.capabilities of type bool",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(
        _CONF_GO,
        _CONF_GO_13,
        _TYPES_GO,
        _DECODE_GO,
        "containernetworking/cni:SPEC.md@spec-v1.0.0 (plugin configuration); containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf); containernetworking/cni:libcni/conf.go@v0.8.1; Go encoding/json (UnmarshalTypeError)",
    ),
)

MISSING_PLUGINS_KEY = Rule(
    code="CNI110",
    name="missing-plugins-key",
    severity=Severity.ERROR,
    summary='A .conflist has no "plugins" key.',
    meaning=(
        'A network configuration list needs a "plugins" array. libcni up to v1.2.3 fails with '
        "'error parsing configuration list: no 'plugins' key' (containernetworking/cni:libcni/conf.go@v0.8.1); libcni "
        "v1.3.0 instead looks for plugin files in <dir>/<name>/*.conf and, when there are none, "
        "fails with 'no plugin configs found' (#6). A key spelt with different case (\"Plugins\") "
        "does not count: list keys are read with exact case." + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "mynet", "Plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Add "plugins": [ {...plugin...} ] (exact case).',
    runtime_errors=(
        "error parsing configuration list: no 'plugins' key",
        "no plugin configs found",
        _WRAP_LIST,
    ),
    references=(
        _CONF_GO,
        _CONF_GO_13,
        "containernetworking/cni:libcni/conf.go@v1.3.0 (ConfListFromBytes); containernetworking/cni:SPEC.md@spec-v1.1.0 (network configuration lists); containernetworking/cni:libcni/conf.go@v0.8.1; containernetworking/cni:libcni/conf.go@v1.3.0",
    ),
)

EMPTY_PLUGINS = Rule(
    code="CNI111",
    name="empty-plugins",
    severity=Severity.ERROR,
    summary='"plugins" is an empty array.',
    meaning=(
        "libcni refuses a list without plugins: 'error parsing configuration list: no plugins in "
        "list' (containernetworking/cni:libcni/conf.go@v0.8.1; podman's containers-common invalid-noplugin fixture)."
        + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": []}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Add at least one plugin (an interface plugin such as bridge, ptp or the add-on's own).",
    runtime_errors=(
        "error parsing configuration list: no plugins in list",
        "CNI config list in config file %s has no networks, skipping: invalid cni config",
        _WRAP_LIST,
    ),
    references=(
        _CONF_GO,
        "containernetworking/cni:libcni/conf.go@v0.8.1; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir)",
    ),
)

MISSING_TYPE = Rule(
    code="CNI112",
    name="missing-type",
    severity=Severity.ERROR,
    summary='A plugin configuration has no (or an empty) "type".',
    meaning=(
        '"type" names the plugin binary; libcni rejects a plugin object whose type is absent, '
        "empty or null: 'failed to parse plugin config N: error parsing configuration: missing "
        "'type'' in a list, 'error parsing configuration: missing 'type'' in a .conf ("
        "containernetworking/cni:libcni/conf.go@v0.8.1; libcni 0.7.x writes 'Failed' with a capital F, containernetworking/cni:libcni@v0.7.1)."
        + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"bridge": "cni0"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge", "bridge": "cni0"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Add "type": "<plugin binary name>" to the plugin object.',
    runtime_errors=(
        "failed to parse plugin config %d: error parsing configuration: missing 'type'",
        "Failed to parse plugin config %d: error parsing configuration: missing 'type'",
        "error parsing configuration: missing 'type'",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(_CONF_GO, "containernetworking/cni:libcni/conf.go@v0.8.1; containernetworking/cni:libcni@v0.7.1"),
)

LIST_IN_CONF_FILE = Rule(
    code="CNI113",
    name="list-in-conf-file",
    severity=Severity.ERROR,
    summary='A .conf/.json file holds a configuration list (with "plugins").',
    meaning=(
        "The runtimes pick the parser by extension: .conf and .json are read as ONE plugin "
        "configuration (libcni ConfFromFile), .conflist as a list. A list saved as .conf has no "
        "top-level \"type\", so loading fails with 'error parsing configuration: missing 'type'' "
        "(containernetworking/cni:libcni/conf.go@v0.8.1; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks)). Real case: CRI-O's RPM spec installed its bridge and "
        "loopback lists as 100-crio-bridge.conf and 200-loopback.conf." + _WHO_BREAKS
    ),
    example='10-mynet.conf:\n{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    correct_example='10-mynet.conflist: {"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Rename the file to .conflist (keep the numeric prefix so the order stays the same).",
    runtime_errors=(
        "error parsing configuration: missing 'type'",
        _WRAP_CONF,
    ),
    references=(
        _CONF_GO,
        _GO_CNI,
        "containernetworking/cni:libcni/conf.go@v0.8.1; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks)",
    ),
)

MISSING_LIST_NAME = Rule(
    code="CNI114",
    name="missing-list-name",
    severity=Severity.ERROR,
    summary='A .conflist has no "name" key.',
    meaning=(
        'libcni requires the key "name" in every list and fails with \'error parsing '
        'configuration list: no name\' when it is absent ("name": "" passes this check; '
        'containernetworking/cni:libcni/conf.go@v0.8.1 (ConfListFromBytes, ConfListFromConf); containernetworking/cni:libcni/conf.go@v0.8.1). A differently cased key ("Name") does not count.'
        + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "plugins": [{"type": "bridge", "bridge": "cni0"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge", "bridge": "cni0"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Add "name": "<network name>" (letters, digits, _ . -; unique per node).',
    runtime_errors=(
        "error parsing configuration list: no name",
        _WRAP_LIST,
    ),
    references=(
        _CONF_GO,
        "containernetworking/cni:libcni/conf.go@v0.8.1 (ConfListFromBytes, ConfListFromConf); containernetworking/cni:libcni/conf.go@v0.8.1",
    ),
)

KEY_CASE_MISMATCH = Rule(
    code="CNI115",
    name="key-case-mismatch",
    severity=Severity.WARNING,
    summary='A key differs only in case from one libcni knows ("Type", "DNS", "CNIVersion").',
    meaning=(
        "Two different rules apply. Inside a plugin object libcni decodes into its NetConf "
        'struct, and Go\'s encoding/json matches struct fields case-insensitively: "Type", '
        '"IPAM" or "DNS" work (Windows configs of azure-cni, calico and rke2 rely on it), but '
        "non-Go consumers and tools do not, and when both spellings exist the later one wins. At "
        'list level libcni reads the keys from a map with exact case, so "CNIVersion", "Name" '
        'or "DisableCheck" are silently IGNORED - the list then has no version, no name or no '
        "disableCheck at all."
    ),
    example='{"CNIVersion": "1.0.0", "name": "mynet", "plugins": [{"Type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Rarely: Go matches keys case-insensitively, so it may load, but other tools (and the plugin's own decoding of other keys) may not.",
    fix="Spell the key exactly as the spec does: cniVersion, name, plugins, disableCheck, type, "
    "ipam, dns, capabilities.",
    runtime_errors=(),
    references=(
        _DECODE_GO + " (byExactName, then byFoldedName)",
        _CONF_GO,
        _TYPES_GO,
        "containernetworking/cni:libcni/conf.go@v1.3.0 (ConfListFromBytes); containernetworking/cni:SPEC.md@spec-v1.1.0 (network configuration lists); containernetworking/cni:SPEC.md@spec-v1.0.0 (plugin configuration); containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf)",
    ),
)

NOT_AN_OBJECT = Rule(
    code="CNI116",
    name="not-an-object",
    severity=Severity.ERROR,
    summary="The file, or a plugin entry, is not a JSON object (array, string, number or null).",
    meaning=(
        'A config file must be one JSON object and every element of "plugins" must be an object. '
        "Otherwise Go reports 'json: cannot unmarshal array into Go value of type "
        "map[string]interface {}' (a list), '... into Go value of type types.NetConf' (a .conf or "
        'a plugin entry; types.PluginConf in libcni v1.3.0); a null plugin reads as "missing '
        "'type'\" (containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf); Go encoding/json (UnmarshalTypeError))."
        + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": ["bridge", "portmap"]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Write each plugin as an object: "plugins": [{"type": "bridge"}, {"type": "portmap"}].',
    runtime_errors=(
        "error parsing configuration list: json: cannot unmarshal %s into Go value of type map[string]interface {}",
        "error parsing configuration: json: cannot unmarshal %s into Go value of type types.NetConf",
        "failed to parse plugin config %d: error parsing configuration: json: cannot unmarshal %s into "
        "Go value of type types.NetConf",
        "failed to parse plugin config %d: error parsing configuration: json: cannot unmarshal %s into "
        "Go value of type types.PluginConf",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(_CONF_GO, _CONF_GO_13, _DECODE_GO),
)

INVALID_UTF8 = Rule(
    code="CNI117",
    name="invalid-utf8",
    severity=Severity.WARNING,
    summary="A string holds bytes that are not valid UTF-8 (Go turns them into U+FFFD).",
    meaning=(
        "Go's encoding/json accepts invalid UTF-8 inside strings and replaces each bad byte with "
        "U+FFFD, so the file loads, but names, paths or interface names then differ from what the "
        "file seems to say (a Latin-1 'é' from a legacy editor becomes '\ufffd'), and non-Go tools "
        "reject the file. Outside strings such bytes are syntax errors (CNI101)."
    ),
    example='{"cniVersion": "1.0.0", "name": "r<E9>seau", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "reseau", "plugins": [{"type": "bridge"}]}   (file saved as UTF-8)',
    when_to_ignore="If the invalid bytes sit in a value nothing reads (Go replaces them with U+FFFD rather than failing).",
    fix="Re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or use ASCII values.",
    runtime_errors=(),
    references=(_DECODE_GO + " unquote (utf8.RuneError -> U+FFFD)", "RFC 8259 §8.1"),
)

SINGLE_CONF_IN_CONFLIST = Rule(
    code="CNI118",
    name="single-conf-in-conflist",
    severity=Severity.ERROR,
    summary='A .conflist file holds a single plugin configuration (a "type", no "plugins").',
    meaning=(
        ".conflist files are parsed as lists, so a single plugin object saved under that extension "
        "fails with 'error parsing configuration list: no 'plugins' key' (libcni <= v1.2.3; "
        "v1.3.0: 'no plugin configs found' unless <dir>/<name>/*.conf exist). Real case: multus "
        "issue 146 (70-multus.conflist without plugins). containernetworking/cni:libcni/conf.go@v0.8.1; containernetworking/cni:libcni/conf.go@v1.3.0."
        + _WHO_BREAKS
    ),
    example='10-mynet.conflist:\n{"cniVersion": "0.4.0", "name": "mynet", "type": "bridge", "bridge": "cni0"}',
    correct_example='10-mynet.conf: {"cniVersion": "0.4.0", "name": "mynet", "type": "bridge", "bridge": "cni0"}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Rename the file to .conf, or wrap the object: {"cniVersion", "name", "plugins": [ {...} ]}.',
    runtime_errors=(
        "error parsing configuration list: no 'plugins' key",
        "no plugin configs found",
        _WRAP_LIST,
    ),
    references=(
        _CONF_GO,
        _CONF_GO_13,
        "containernetworking/cni:libcni/conf.go@v0.8.1; containernetworking/cni:libcni/conf.go@v1.3.0",
        "https://github.com/k8snetworkplumbingwg/multus-cni/issues/146",
    ),
)

NESTING_TOO_DEEP = Rule(
    code="CNI119",
    name="nesting-too-deep",
    severity=Severity.ERROR,
    summary="Arrays/objects are nested more than 10000 levels deep.",
    meaning=(
        "Go's JSON scanner limits nesting to 10000 levels (scanner.go maxNestingDepth) and fails "
        "with 'invalid character '[' exceeded max depth'. No real config nests that deep: the file "
        "is generated garbage or corrupted." + _WHO_BREAKS
    ),
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [[[[[[ ... 10000 levels ... ]]]]]]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Regenerate the file from its source.",
    runtime_errors=(
        "error parsing configuration list: invalid character '[' exceeded max depth",
        "error parsing configuration list: invalid character '{' exceeded max depth",
        _WRAP_LIST,
        _WRAP_CONF,
    ),
    references=(_SCANNER_GO + " pushParseState",),
)

BINARY_CONTENT = Rule(
    code="CNI120",
    name="binary-content",
    severity=Severity.ERROR,
    summary="The file is binary or not UTF-8 text (an executable, an archive, random bytes), not a CNI config.",
    meaning=(
        "libcni reads every file with a config extension whole (os.ReadFile, no size limit) and hands "
        "it to Go's encoding/json, whose scanner stops at the first byte that cannot start or "
        "continue a JSON value: an ELF binary fails at its first byte, 'invalid character '\\x7f' "
        "looking for beginning of value'. Such a file is a plugin binary, a tarball or a corrupted "
        "file copied into the config directory under a config name; cnidoctor reports it once "
        "(not as invalid JSON or as a template whose placeholders are random bytes) and predicts "
        "the load error from the first bad byte, whatever the file's size." + _WHO_BREAKS
    ),
    example="/etc/cni/net.d/05-x.conf  (a copy of /opt/cni/bin/bridge, 7f 45 4c 46 ...)",
    correct_example="/etc/cni/net.d/ holding only JSON network configs; plugin binaries in /opt/cni/bin",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Move the file out of the config directory (`file <path>` tells what it is); restore the "
    "intended config from its installer.",
    runtime_errors=(),  # the texts are CNI101's; explain/kb.json maps them to that family
    references=(
        _SCANNER_GO,
        "containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFromFile/NetworkConfFromFile: os.ReadFile)",
        _GO_CNI,
        _OCICNI,
    ),
)

RULES: Tuple[Rule, ...] = (
    INVALID_JSON,
    UTF8_BOM,
    JSON_COMMENT,
    TRAILING_COMMA,
    NON_FINITE_NUMBER,
    MULTIPLE_JSON_VALUES,
    DUPLICATE_KEY,
    UNRENDERED_TEMPLATE,
    WRONG_JSON_TYPE,
    MISSING_PLUGINS_KEY,
    EMPTY_PLUGINS,
    MISSING_TYPE,
    LIST_IN_CONF_FILE,
    MISSING_LIST_NAME,
    KEY_CASE_MISMATCH,
    NOT_AN_OBJECT,
    INVALID_UTF8,
    SINGLE_CONF_IN_CONFLIST,
    NESTING_TOO_DEEP,
    BINARY_CONTENT,
)
