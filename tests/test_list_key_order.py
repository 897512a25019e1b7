"""libcni reads the list keys (disableCheck, cniVersions, disableGC, loadOnlyInlinedPlugins) before
`plugins`, so their refusal is the load error even when a plugin is broken too. The 1.1.2, 1.2.3
and 1.3.0 texts are checked against the real libraries by the differential tests (fixtures
semantics-disable-*-before-plugin-error); libcni 1.2.0 is not recorded, so its texts here are
read from containernetworking/cni:libcni/conf.go@v1.2.0 (ConfListFromBytes: a string disableCheck
other than "true"/"false" -> `invalid disableCheck value %q`, before the `plugins` key is read)."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, run_cli


def _load_error(scenario: str, runtime: str) -> str:
    result = run_cli(
        ["check", "--format", "json", "--fail-on", "never", "--no-probe", "--runtime", runtime, "net.d"],
        cwd=FIXTURES / scenario,
    )
    return json.loads(result.output)["prediction"]["steps"]["load"]["error"]


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("libcni@1.1.2", "error parsing configuration list: invalid disableCheck type string"),
        ("libcni@1.2.0", 'error parsing configuration list: invalid disableCheck value "yes"'),
        ("libcni@1.2.3", 'error parsing configuration list: invalid value "yes" for disableCheck'),
    ],
)
def test_disable_check_is_refused_before_the_broken_plugin(runtime: str, expected: str) -> None:
    assert _load_error("semantics-disable-check-before-plugin-error", runtime) == expected


def test_disable_gc_is_not_read_before_1_2_1() -> None:
    # v1.2.0 reads no disableGC (containernetworking/cni:libcni/conf.go@v1.2.0), so the plugin fails
    error = _load_error("semantics-disable-gc-before-plugin-error", "libcni@1.2.0")
    assert error == "failed to parse plugin config 1: error parsing configuration: missing 'type'"
