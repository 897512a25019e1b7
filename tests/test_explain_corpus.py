"""`cnidoctor explain` against real and reference error lines.

tests/data/explain/reports.txt: the lines users posted in public issue threads (each block names
its thread). tests/data/explain/families.txt: one line per runtime error family, as the component
(libcni, skel, go-cni, ocicni, the runtime) prints it. Expectations (family, cause codes, variables) come
from those documents' diagnoses, not from running explain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from cnidoctor.explain import explain

DATA = Path(__file__).resolve().parent / "data" / "explain"

# §4 rows that posted no error text at all (only symptoms): nothing to recognise.
ROWS_WITHOUT_TEXT = {14, 16, 17}
# §3.2 rows that are pure wrappers: they say who printed a message, never a cause.
WRAPPER_ROWS = {"3.2#37", "3.2#54", "3.2#56", "3.2#60", "3.2#61", "3.2#65"}


def records(name: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    current: Dict[str, Any] = {}
    for line in (DATA / name).read_text(encoding="utf-8").split("\n") + [""]:
        if not line.strip():
            if "text" in current:
                out.append(current)
            current = {}
        elif line.startswith("#"):
            current.setdefault("reference", line[1:].strip())
        else:
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key.startswith("var "):
                current.setdefault("vars", {})[key[4:]] = value
            else:
                current[key] = value
    return out


def _expected(value: str) -> Any:
    return json.loads(value) if value.startswith("[") else value


def check_record(record: Dict[str, Any]) -> None:
    result = explain(record["text"])
    ids = [m.entry.id for m in result.matches]
    assert result.recognised, f"not recognised: {record['text']}"
    assert ids[0] == record["family"], f"{record['text']}\n best match {ids[0]}, all {ids}"
    top = result.matches[0]
    if "also" in record:
        assert record["also"] in ids
    if "wrapper" in record:
        assert record["wrapper"] in [w.entry.id for w in result.context.wrappers]
    for code in record.get("codes", "").split():
        assert code in top.codes, f"{code} not among {top.codes} for {record['text']}"
    for name, value in record.get("vars", {}).items():
        got = top.variables.get(name)
        expected = _expected(value)
        assert (str(got) if isinstance(got, int) else got) == expected, f"{name}: {got!r} != {expected!r}"


REPORTS = records("reports.txt")
FAMILIES = records("families.txt")


@pytest.mark.parametrize("record", REPORTS, ids=[f"row{r['report']}-{r['family']}" for r in REPORTS])
def test_user_report_recognised_with_cause(record: Dict[str, Any]) -> None:
    check_record(record)


@pytest.mark.parametrize("record", FAMILIES, ids=[f"{r['fact']}-{r['family']}" for r in FAMILIES])
def test_family_line_recognised(record: Dict[str, Any]) -> None:
    check_record(record)


def test_every_report_with_text_is_in_the_corpus() -> None:
    covered = {int(r["report"]) for r in REPORTS if r["report"].isdigit()}
    assert set(range(1, 29)) - ROWS_WITHOUT_TEXT <= covered


def test_every_catalogue_row_is_in_the_corpus() -> None:
    covered = {r["fact"] for r in FAMILIES}
    assert "3.1" in covered
    missing = {f"3.2#{n}" for n in range(1, 68)} - covered
    assert not missing, sorted(missing)


def test_wrapper_rows_are_asserted_as_wrappers() -> None:
    for record in FAMILIES:
        if record["fact"] in WRAPPER_ROWS and record["fact"] != "3.2#56":
            assert "wrapper" in record, record["fact"]


# --------------------------------------------------------------------------- variants
WRAPPINGS = [
    # containerd CRI, as kubelet shows it in `kubectl describe pod`
    'Warning  FailedCreatePodSandBox  3m  kubelet  Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0a1b2c": {}',
    # containerd's logrus line: the message is %q-quoted inside error="..."
    'time="2024-05-01T10:00:00Z" level=error msg="RunPodSandbox failed" error="failed to setup network for sandbox \\"0a1b2c\\": {escaped}"',
    # CRI-O
    'failed to create pod network sandbox k8s_web-0_default_1(0a1b2c): error adding pod default_web-0 to CNI network "mynet": {}',
    # kubelet dockershim / cri-dockerd
    'networkPlugin cni failed to set up pod "web-0_default" network: {}',
    # Multus
    '[default/web-0/0a1b2c:cbr0]: error adding container to network "cbr0": {}',
    # podman (ocicni)
    "Error adding network: {}",
    # double-escaped in a JSON event dump
    '{{"message": "failed to setup network for sandbox \\\\\\"0a1b2c\\\\\\": {double}"}}',
]


def _escaped(text: str, levels: int) -> str:
    for _ in range(levels):
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text


def _variants(text: str) -> Iterator[str]:
    for wrapping in WRAPPINGS:
        yield wrapping.format(text, escaped=_escaped(text, 1), double=_escaped(text, 2))


SPECIFIC = [
    r for r in FAMILIES if "wrapper" not in r and r["family"] not in ("go-cni-load-file", "containerd-load-failed")
]


@pytest.mark.parametrize("record", SPECIFIC, ids=[f"{r['fact']}-{r['family']}" for r in SPECIFIC])
def test_family_recognised_in_every_runtime_wrapping(record: Dict[str, Any]) -> None:
    for variant in _variants(record["text"]):
        result = explain(variant)
        assert result.matches and result.matches[0].entry.id == record["family"], variant


TRUNCATABLE = [
    ('incompatible CNI versions; config is "1.0.0", plugin supports ["0.1.0" "0.2.0"', "incompatible-versions"),
    ('incompatible CNI versions; config is "1.0.0", plugin supp', "incompatible-versions"),
    ('failed to find plugin "bridge" in pa', "plugin-not-found"),
    ("no CNI configuration file in /etc/cni/net.d/. Has your", "crio-no-cni-config"),
]


@pytest.mark.parametrize("text,family", TRUNCATABLE)
def test_truncated_message_still_recognised(text: str, family: str) -> None:
    result = explain(text)
    assert result.matches[0].entry.id == family


def test_truncation_claims_no_cause_that_needs_the_missing_part() -> None:
    # the supported list was cut off: "plugin older than config" cannot be claimed (needs the list)
    result = explain('incompatible CNI versions; config is "1.0.0", plugin supp')
    top = result.matches[0]
    assert "CNI409" not in top.codes and "CNI516" not in top.codes
    assert top.codes == ("CNI511",)


LOOKALIKES = [
    'Error: invalid version "v1.2.x": invalid semantic version',  # helm / semver
    "go: example.com/mod@v1.2.3: invalid version: unknown revision v1.2.3",  # go modules
    'semver: invalid version "abc"',
    'time="2024-01-01" level=error msg="unexpected end of JSON input"',  # docker, no CNI context
    "exit status 1",
    "invalid character 'a' looking for beginning of value",  # any Go JSON consumer
    "Error: failed to find plugin for chart",  # helm plugin
    "x509: certificate signed by unknown authority",
    'Failed to pull image "nginx:latest": rpc error: code = NotFound desc = not found',
    "missing network name in request",  # an HTTP API, no CNI context
    'version "1.0.0" is not supported by this server',
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_from_another_subsystem_not_recognised(text: str) -> None:
    assert not explain(text).recognised


def test_recognition_rate_of_the_corpus_is_complete() -> None:
    lines = REPORTS + FAMILIES
    recognised = sum(1 for r in lines if explain(r["text"]).recognised)
    assert recognised == len(lines)


def test_multiple_plugins_in_validation_list_are_all_extracted() -> None:
    text = (
        "Error validating CNI config file /etc/cni/net.d/x.conflist: [plugin bridge does not support config "
        'version "1.0.0" plugin portmap does not support config version "1.0.0"]'
    )
    top = explain(text).matches[0]
    assert top.variables["plugin_all"] == ["bridge", "portmap"]


def test_rows_referenced_in_kb_exist() -> None:
    from cnidoctor.explain.kb import entries

    for entry in entries():
        for row in entry.reports:
            assert 1 <= row <= 28, entry.id
        for fact in entry.facts:
            assert re.fullmatch(r"3\.1|3\.2#\d{1,2}|2\.4", fact), (entry.id, fact)
