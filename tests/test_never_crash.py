"""Property: no input makes cnidoctor crash. Whatever bytes sit in net.d, the whole pipeline
(discover -> parse -> validate -> semantics -> directory rules -> report) turns them into
findings: no exception escapes, the exit code is 0 or 1, the JSON report parses, and every
finding carries a code registered in the rule catalog.

Inputs: arbitrary bytes; the committed fixtures (fixtures/*/net.d/*) mutated at the byte level
(truncation, byte flips, inserted `,` `}` `//` BOM NUL, huge numbers, invalid UTF-8, deep
nesting); and the same fixtures mutated structurally (a value anywhere replaced by a value of
any JSON type, a key removed or added), which gets past the parser into the rules. Plus explicit
edge cases: empty file, 100000-deep nesting, a 5 MB file, only NUL bytes. A smaller budget sends
the same hostile inputs through the text, SARIF and GitHub reporters.

run_cli invokes the click command without cli.main's guard, so any exception fails the test.
Budgets are modest (a few hundred examples in total) so the suite stays fast; no timing asserts.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest
from click.testing import Result
from conftest import FIXTURES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnidoctor.rules import catalog

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Our own small seeds, so the mutations have variety even while few fixtures are committed:
# a single-plugin .conf, a 0.4.0 chain, a multus-style delegate list, a 1.1.0 cniVersions list.
INLINE_SEEDS: Tuple[bytes, ...] = (
    b'{"cniVersion": "0.3.1", "name": "net1", "type": "bridge", "bridge": "br0",\n'
    b' "ipam": {"type": "host-local", "subnet": "10.1.0.0/16", "gateway": "10.1.0.1"}}\n',
    b'{"cniVersion": "0.4.0", "name": "chain", "disableCheck": "true", "plugins": [\n'
    b' {"type": "ptp", "ipMasq": true, "mtu": 1460,\n'
    b'  "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.9.0.0/24"}]]}},\n'
    b' {"type": "firewall", "backend": "iptables"},\n'
    b' {"type": "tuning", "sysctl": {"net.ipv4.conf.all.forwarding": "1"}},\n'
    b' {"type": "bandwidth", "capabilities": {"bandwidth": true}}]}\n',
    b'{"cniVersion": "0.3.1", "name": "multus", "type": "multus", "kubeconfig": "/k",\n'
    b' "delegates": [{"cniVersion": "0.3.1", "name": "d", "plugins": [\n'
    b'  {"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}}]}]}\n',
    b'{"cniVersion": "1.1.0", "cniVersions": ["1.0.0", "1.1.0"], "name": "v11",\n "plugins": [{"type": "loopback"}]}\n',
)


SEED_LIMIT = 64 * 1024  # big fixtures (file-too-large scenarios) would only slow the mutations down


def fixture_seeds() -> Tuple[bytes, ...]:
    """Bytes of every regular fixtures/*/net.d/* file (FIFOs, dangling links and dirs skipped)."""
    seeds = []
    for path in sorted(FIXTURES.glob("*/net.d/*")):
        try:
            if path.is_file() and path.stat().st_size <= SEED_LIMIT:
                seeds.append(path.read_bytes())
        except OSError:
            continue
    return tuple(seeds)


SEEDS: Tuple[bytes, ...] = fixture_seeds() + INLINE_SEEDS


def _as_object(data: bytes) -> Dict[str, Any] | None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):  # the nesting-too-deep fixtures
        return None
    return doc if isinstance(doc, dict) else None


OBJECT_SEEDS: Tuple[Dict[str, Any], ...] = tuple(doc for doc in (_as_object(s) for s in SEEDS) if doc is not None)

# ---------------------------------------------------------------- file names

EXTENSIONS = (".conf", ".conflist", ".json")
ODD_EXTENSIONS = (".conflist.bak", ".yaml", ".conf~", "")
NAME_ALPHABET = "abcxyz0123456789-_.é "
names = st.builds(
    lambda stem, ext: stem + ext,
    st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=16).filter(lambda s: s not in (".", "..")),
    st.sampled_from(EXTENSIONS) | st.sampled_from(ODD_EXTENSIONS),
)

# ---------------------------------------------------------------- byte-level mutations

TOKENS: Tuple[bytes, ...] = (
    b",",
    b"}",
    b"]",
    b"{",
    b"[",
    b'"',
    b":",
    b"//",
    b"// comment\n",
    b"/* c */",
    b"\xef\xbb\xbf",  # UTF-8 BOM (CNI102)
    b"\x00",
    b"1e999",
    b"-1e400",
    b"123456789012345678901234567890123456789",
    b"0.000000000000000000001e-400",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",  # invalid UTF-8
    b'"\\ud800"',
    b'"\\u0000"',
    b'"cniVersion": "1.0.0", ',
    b'"name": "dup", ',
    b'"plugins": [], ',
    b"{{ .CNIVersion }}",
    b"__CNI_MTU__",
    b"$2",
    b"%SERVICE_CIDR%",
    b"\n",
    b"\r\n",
    b"\t",
)


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    size = len(data)
    pos = draw(st.integers(0, size))
    kind = draw(st.sampled_from(("truncate", "flip", "insert", "delete", "duplicate", "bom", "nest", "nest-value")))
    if kind == "truncate":
        return data[:pos]
    if kind == "flip" and size:
        index = min(pos, size - 1)
        mask = draw(st.integers(1, 255))
        return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]
    if kind == "insert":
        return data[:pos] + draw(st.sampled_from(TOKENS)) + data[pos:]
    if kind == "delete":
        end = draw(st.integers(pos, size))
        return data[:pos] + data[end:]
    if kind == "duplicate":
        end = draw(st.integers(pos, size))
        return data[:end] + data[pos:end] + data[end:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    depth = draw(st.integers(1, 3000))
    if kind == "nest":
        return b"[" * depth + data + b"]" * depth
    # nest-value: a deeply nested array right after some ':' (inside the document)
    colon = data.find(b":", pos)
    if colon < 0:
        return data + b"[" * depth
    return data[: colon + 1] + b"[" * depth + b"]" * depth + b"," + data[colon + 1 :]


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(byte_mutation(data))
    return data


# ---------------------------------------------------------------- structural mutations

INTERESTING_KEYS = (
    "cniVersion",
    "cniVersions",
    "name",
    "type",
    "plugins",
    "ipam",
    "capabilities",
    "runtimeConfig",
    "args",
    "delegates",
    "delegate",
    "disableCheck",
    "disableGC",
    "loadOnlyInlinedPlugins",
    "dns",
    "ranges",
    "subnet",
    "routes",
    "prevResult",
    "Type",
    "CNIVersion",
    "Plugins",
    "NAME",
)
INTERESTING_STRINGS = (
    "",
    "1.0.0",
    "0.3.1",
    "0.4.0",
    "1.1.0",
    "0.1",
    "0.2.0",
    "v1.0.0",
    "1.0",
    "99.0.0",
    "0.3.1 ",
    "bridge",
    "host-local",
    "loopback",
    "firewall",
    "../bin/bridge",
    "/usr/lib/cni/bridge",
    "a/b",
    "10.0.0.0/24",
    "usePodCidr",
    "true",
    "false",
    "{{ .CNIVersion }}",
    "__CNI_MTU__",
    "é",
    "\x00",
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(INTERESTING_STRINGS),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(INTERESTING_KEYS) | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)

Path_ = Tuple[Any, ...]


def all_paths(doc: Any, prefix: Path_ = ()) -> List[Path_]:
    """Every location in ``doc`` (object keys and array indices), the root included."""
    out: List[Path_] = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(all_paths(value, prefix + (key,)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out.extend(all_paths(value, prefix + (index,)))
    return out


def parent_of(doc: Any, path: Path_) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def structural_mutation(draw: st.DrawFn, doc: Any) -> Any:
    paths = [p for p in all_paths(doc) if p]
    if not paths:
        return draw(json_values)
    path = draw(st.sampled_from(paths))
    parent = parent_of(doc, path)
    kind = draw(st.sampled_from(("replace", "remove", "add")))
    if kind == "replace":
        parent[path[-1]] = draw(json_values)
    elif kind == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(INTERESTING_KEYS))] = draw(json_values)
    else:
        parent.insert(path[-1], draw(json_values))
    return doc


@st.composite
def structurally_mutated_seed(draw: st.DrawFn) -> bytes:
    doc = json.loads(json.dumps(draw(st.sampled_from(OBJECT_SEEDS))))  # a deep copy
    for _ in range(draw(st.integers(1, 4))):
        doc = draw(structural_mutation(doc))
    # allow_nan: Python writes NaN/Infinity, which Go's encoding/json rejects (CNI105).
    return json.dumps(doc, indent=draw(st.sampled_from((None, 2)))).encode("utf-8")


# ---------------------------------------------------------------- running and checking


def assert_sane(result: Result) -> None:
    """Exit 0/1, valid JSON, registered codes, exit code consistent with --fail-on error."""
    assert result.exit_code in (0, 1), f"exit {result.exit_code}: {result.output}"
    report = json.loads(result.stdout)
    known = catalog()
    for finding in report["findings"]:
        assert finding["code"] in known, f"unregistered code {finding['code']}: {finding}"
        assert finding["severity"] in ("error", "warning", "info"), finding
    has_error = any(f["severity"] == "error" for f in report["findings"])
    assert result.exit_code == (1 if has_error else 0)


def check_files(files: Sequence[Tuple[str, bytes]], name_the_file: bool = False, fmt: str = "json") -> None:
    """Write ``files`` into a fresh net.d and check it (the directory, or the first file)."""
    with tempfile.TemporaryDirectory(prefix="cnidoctor-never-crash-") as tmp:
        netd = Path(tmp) / "net.d"
        netd.mkdir()
        for name, data in files:
            (netd / name).write_bytes(data)
        target = netd / files[0][0] if name_the_file else netd
        # cwd=tmp: no settings file upwards of it can change the outcome.
        result = run_cli(["check", "--no-probe", "--format", fmt, "--color", "never", str(target)], cwd=Path(tmp))
        if fmt == "json":
            assert_sane(result)
        else:
            assert result.exit_code in (0, 1), f"exit {result.exit_code}: {result.output}"
            if fmt == "sarif":
                json.loads(result.stdout)


def unique_files(content: st.SearchStrategy[bytes]) -> st.SearchStrategy[List[Tuple[str, bytes]]]:
    return st.lists(st.tuples(names, content), min_size=1, max_size=3, unique_by=lambda f: f[0])


@SETTINGS
@given(name=names, data=st.binary(max_size=2048), name_the_file=st.booleans())
def test_arbitrary_bytes(name: str, data: bytes, name_the_file: bool) -> None:
    check_files([(name, data)], name_the_file)


@SETTINGS
@given(files=unique_files(mutated_seed()), name_the_file=st.booleans())
def test_byte_mutated_fixtures(files: List[Tuple[str, bytes]], name_the_file: bool) -> None:
    check_files(files, name_the_file)


@settings(SETTINGS, max_examples=120)
@given(files=unique_files(structurally_mutated_seed() | st.sampled_from(SEEDS)), name_the_file=st.booleans())
def test_structurally_mutated_fixtures(files: List[Tuple[str, bytes]], name_the_file: bool) -> None:
    check_files(files, name_the_file)


@settings(SETTINGS, max_examples=40)
@given(
    files=unique_files(mutated_seed() | structurally_mutated_seed()), fmt=st.sampled_from(("text", "sarif", "github"))
)
def test_other_reporters_survive(files: List[Tuple[str, bytes]], fmt: str) -> None:
    """The same hostile inputs through the other reporters: no exception, exit 0/1, SARIF parses."""
    check_files(files, fmt=fmt)


def test_seeds_exist() -> None:
    """The mutation tests are only as good as their seeds: the committed fixtures must load."""
    assert fixture_seeds(), "no fixtures/*/net.d/* files found"
    assert OBJECT_SEEDS


DEEP = 100_000
FIVE_MB = 5 * 1024 * 1024
EDGE_CASES: Dict[str, bytes] = {
    "empty": b"",
    "only-nul": b"\x00" * 4096,
    "only-bom": b"\xef\xbb\xbf",
    "deep-unclosed-arrays": b"[" * DEEP,
    "deep-balanced-arrays": b"[" * DEEP + b"]" * DEEP,
    "deep-unclosed-objects": b'{"a":' * DEEP,
    "deep-inside-plugin": (
        b'{"cniVersion": "1.0.0", "name": "deep", "plugins": [{"type": "bridge", "ipam": '
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}]}"
    ),
    "5mb-valid-padding": (
        b'{"cniVersion": "1.0.0", "name": "big", "pad": "' + b"x" * FIVE_MB + b'", "plugins": [{"type": "loopback"}]}'
    ),
    "5mb-of-commas": b"[" + b"1," * (FIVE_MB // 2) + b"1]",
    # A half-written file cut inside a string (an installer racing the runtime). A string regex
    # with nested quantifiers backtracks exponentially on this and never returns.
    "truncated-in-long-string": b'{"cniVersion": "1.0.0", "name": "' + b"n" * 64,
}


@pytest.mark.parametrize("extension", [".conflist", ".conf"])
@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case(case: str, extension: str) -> None:
    check_files([("10-edge" + extension, EDGE_CASES[case])])
