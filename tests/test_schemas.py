"""The shipped per-version schemas: well-formed, indexed, faithful to the spec tables, packaged
in the wheel, and ``quick_check`` always agreeing with jsonschema.

Expected key sets below are transcribed from cni-facts.md §1.2 (list keys) and §1.3 (plugin
keys), independently of the schema files, so a schema that drifts from the spec fails here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Tuple
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from cnidoctor.config import schemas
from cnidoctor.versions import SPEC_VERSIONS

REPO_SCHEMAS = ROOT / "schemas"  # the published artefact; the package reads it as cnidoctor/_schemas
PAIRS = [(kind, version) for version in SPEC_VERSIONS for kind in schemas.KINDS]
PAIR_IDS = [f"{kind}-{version}" for kind, version in PAIRS]

# cni-facts.md §1.2: list keys each spec version defines. 0.1.0/0.2.0 have no lists; libcni
# still loads one, and our schema gives it the 0.3.0 envelope (documented in the schema).
LIST_KEYS: Dict[str, List[str]] = {
    "0.1.0": ["cniVersion", "name", "plugins"],
    "0.2.0": ["cniVersion", "name", "plugins"],
    "0.3.0": ["cniVersion", "name", "plugins"],
    "0.3.1": ["cniVersion", "name", "plugins"],
    "0.4.0": ["cniVersion", "name", "plugins", "disableCheck"],
    "1.0.0": ["cniVersion", "name", "plugins", "disableCheck"],
    "1.1.0": ["cniVersion", "cniVersions", "name", "plugins", "disableCheck", "disableGC", "loadOnlyInlinedPlugins"],
}

# cni-facts.md §1.3 (+ libcni's PluginConf struct fields, typed at every version).
PLUGIN_KEYS_BASE = ["type", "name", "cniVersion", "ipMasq", "ipam", "dns", "capabilities", "prevResult"]
PLUGIN_EXTRA: Dict[str, List[str]] = {
    "0.1.0": [],
    "0.2.0": ["args"],
    "0.3.0": ["args", "runtimeConfig"],
    "0.3.1": ["args", "runtimeConfig"],
    "0.4.0": ["args", "runtimeConfig"],
    "1.0.0": ["args", "runtimeConfig"],
    "1.1.0": ["args", "runtimeConfig", "cni.dev/valid-attachments", "cni.dev/attachments"],
}


def validator(kind: str, version: str) -> Draft202012Validator:
    return Draft202012Validator(schemas.load_schema(kind, version))


def bridge_list(version: str, **extra: Any) -> Dict[str, Any]:
    plugin = {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}
    doc: Dict[str, Any] = {"cniVersion": version, "name": "mynet", "plugins": [plugin]}
    doc.update(extra)
    return doc


@pytest.mark.parametrize("kind,version", PAIRS, ids=PAIR_IDS)
def test_schema_is_valid_draft_2020_12(kind: str, version: str) -> None:
    schema = schemas.load_schema(kind, version)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_index_lists_every_schema_with_its_hash() -> None:
    index = schemas.load_index()
    entries = {(e["kind"], e["version"]): e for e in index["schemas"]}
    assert set(entries) == set(PAIRS)
    for (kind, version), entry in entries.items():
        raw = (REPO_SCHEMAS / entry["path"]).read_bytes()  # relative to index.json
        assert "_schemas/" + entry["path"] == schemas.schema_path(kind, version)
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], entry["path"]
        assert json.loads(raw)["$id"] == entry["$id"]
        assert entry["source"] and all(isinstance(s, str) and s for s in entry["source"])
    assert len({e["$id"] for e in index["schemas"]}) == len(PAIRS)


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_list_keys_follow_the_spec_table(version: str) -> None:
    schema = schemas.load_schema("conflist", version)
    assert sorted(schema["properties"]) == sorted(LIST_KEYS[version])
    assert schema["additionalProperties"] is False  # libcni ignores unknown list keys: CNI202
    assert schema["required"] == ["cniVersion", "name", "plugins"]


@pytest.mark.parametrize("kind,version", PAIRS, ids=PAIR_IDS)
def test_plugin_keys_follow_the_spec_table(kind: str, version: str) -> None:
    schema = schemas.load_schema(kind, version)
    plugin = schema["$defs"]["plugin"] if kind == "conflist" else schema
    assert sorted(plugin["properties"]) == sorted(PLUGIN_KEYS_BASE + PLUGIN_EXTRA[version])
    assert plugin["additionalProperties"] is True  # plugin-specific keys are legal (§1.8)


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_real_world_shapes_are_valid_at_every_version(version: str) -> None:
    doc = bridge_list(version)
    doc["plugins"].append({"type": "aws-cni", "mtu": "9001", "ipam": {}, "dns": {}})  # §README: legal
    doc["plugins"].append({"type": "portmap", "capabilities": {"portMappings": True}, "snat": True})
    assert list(validator("conflist", version).iter_errors(doc)) == []


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_libcni_typed_fields_are_enforced(version: str) -> None:
    v = validator("conflist", version)
    for bad_plugin in (
        {"type": "bridge", "capabilities": {"portMappings": "yes"}},  # map[string]bool (§1.3)
        {"type": "bridge", "ipam": "host-local"},  # IPAM struct
        {"type": "bridge", "dns": ["8.8.8.8"]},  # DNS struct [LAB]
        {"type": "bridge", "dns": {"nameservers": "8.8.8.8"}},
        {"type": 5},
        {"type": ""},  # libcni: missing 'type'
        {"bridge": "cni0"},
        {"type": "bridge", "ipMasq": "true"},  # spec: boolean
    ):
        assert not v.is_valid(bridge_list(version, plugins=[bad_plugin])), bad_plugin
    assert not v.is_valid(bridge_list(version, plugins=[]))  # libcni: no plugins in list


def test_disable_check_types_follow_each_spec_text() -> None:
    # 0.4.0 text: string "true"/"false" (libcni accepts a bool too); 1.0.0+: boolean.
    assert validator("conflist", "0.4.0").is_valid(bridge_list("0.4.0", disableCheck="true"))
    assert validator("conflist", "0.4.0").is_valid(bridge_list("0.4.0", disableCheck=True))
    assert not validator("conflist", "0.4.0").is_valid(bridge_list("0.4.0", disableCheck="yes"))
    assert not validator("conflist", "1.0.0").is_valid(bridge_list("1.0.0", disableCheck="true"))
    assert validator("conflist", "1.0.0").is_valid(bridge_list("1.0.0", disableCheck=False))
    assert not validator("conflist", "0.3.1").is_valid(bridge_list("0.3.1", disableCheck=True))


def test_version_specific_rules() -> None:
    assert validator("conflist", "1.1.0").is_valid(bridge_list("1.1.0", cniVersions=["1.0.0", "1.1.0"], disableGC=True))
    assert not validator("conflist", "1.0.0").is_valid(bridge_list("1.0.0", cniVersions=["1.0.0"]))
    # Name character rule and "no path characters in type" arrive with spec 1.0.0.
    assert validator("conflist", "0.4.0").is_valid(bridge_list("0.4.0", name="bad name"))
    assert not validator("conflist", "1.0.0").is_valid(bridge_list("1.0.0", name="bad name"))
    assert not validator("conflist", "1.0.0").is_valid(bridge_list("1.0.0", plugins=[{"type": "../bridge"}]))
    assert not validator("conflist", "1.0.0").is_valid(
        bridge_list("1.0.0", plugins=[{"type": "b", "ipam": {"type": "a/b"}}])
    )
    # ipam.routes is part of the 0.1.0/0.2.0 ipam definition only.
    routes = {"type": "bridge", "ipam": {"type": "host-local", "routes": [{"gw": "10.0.0.1"}]}}
    assert not validator("conflist", "0.2.0").is_valid(bridge_list("0.2.0", plugins=[routes]))
    assert validator("conflist", "0.3.0").is_valid(bridge_list("0.3.0", plugins=[routes]))


def test_single_conf_requirements() -> None:
    # Spec <= 0.4.0 lists cniVersion/name/type as the well-known keys of a single config;
    # spec 1.0.0 defines only the plugin object, where just "type" is required.
    conf = {"cniVersion": "0.3.1", "type": "loopback"}
    assert not validator("plugin", "0.3.1").is_valid(conf)
    assert validator("plugin", "0.3.1").is_valid(dict(conf, name="lo"))
    assert validator("plugin", "1.0.0").is_valid({"cniVersion": "1.0.0", "type": "loopback"})


# --- quick_check agrees with jsonschema -----------------------------------------------------

WELL_KNOWN = sorted(
    {k for v in SPEC_VERSIONS for k in LIST_KEYS[v] + PLUGIN_EXTRA[v]}
    | set(PLUGIN_KEYS_BASE)
    | {"nameservers", "domain", "search", "options", "routes", "dst", "gw", "containerID", "ifname", "portMappings"}
)
KEYS = st.sampled_from(WELL_KNOWN) | st.text(max_size=3)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "true", "false", "bridge", "a/b", "bad name", "1.0.0", "x\\y", "\u212a"])
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12
)


def _or_anything(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly well-typed values (so valid documents are common), sometimes anything."""
    return st.one_of(*([strategy] * 8), VALUES)


STRINGS = st.sampled_from(["bridge", "host-local", "1.0.0", "true", "mynet", "", "a/b", "bad name"])
STRING_LISTS = st.lists(STRINGS, max_size=2)
NEAR_PLUGIN = st.fixed_dictionaries(
    {"type": _or_anything(STRINGS), "name": _or_anything(STRINGS), "cniVersion": _or_anything(STRINGS)},
    optional={
        "ipMasq": _or_anything(st.booleans()),
        "args": _or_anything(st.dictionaries(KEYS, VALUES, max_size=2)),
        "runtimeConfig": _or_anything(st.dictionaries(KEYS, VALUES, max_size=2)),
        "prevResult": _or_anything(st.dictionaries(KEYS, VALUES, max_size=2)),
        "capabilities": _or_anything(st.dictionaries(KEYS, st.booleans(), max_size=2)),
        "ipam": _or_anything(
            st.fixed_dictionaries(
                {},
                optional={
                    "type": _or_anything(STRINGS),
                    "routes": _or_anything(
                        st.lists(
                            st.fixed_dictionaries(
                                {}, optional={"dst": _or_anything(STRINGS), "gw": _or_anything(STRINGS)}
                            ),
                            max_size=2,
                        )
                    ),
                },
            )
        ),
        "dns": _or_anything(
            st.fixed_dictionaries(
                {},
                optional={
                    "nameservers": _or_anything(STRING_LISTS),
                    "domain": _or_anything(STRINGS),
                    "search": _or_anything(STRING_LISTS),
                    "options": _or_anything(STRING_LISTS),
                },
            )
        ),
        "cni.dev/valid-attachments": _or_anything(
            st.lists(
                st.fixed_dictionaries(
                    {}, optional={"containerID": _or_anything(STRINGS), "ifname": _or_anything(STRINGS)}
                ),
                max_size=2,
            )
        ),
        "mtu": VALUES,
    },
)
NEAR_BOOL = _or_anything(st.booleans() | st.sampled_from(["true", "false", "True"]))
NEAR_LIST = st.fixed_dictionaries(
    {
        "plugins": _or_anything(st.lists(NEAR_PLUGIN, min_size=1, max_size=3)),
        "cniVersion": _or_anything(STRINGS),
        "name": _or_anything(STRINGS),
    },
    optional={
        "cniVersions": _or_anything(STRING_LISTS),
        "disableCheck": NEAR_BOOL,
        "disableGC": NEAR_BOOL,
        "loadOnlyInlinedPlugins": NEAR_BOOL,
        "other": VALUES,
    },
)
PLUGINS = NEAR_PLUGIN | st.dictionaries(KEYS, VALUES, max_size=6) | VALUES
LISTS = NEAR_LIST | st.fixed_dictionaries(
    {"plugins": st.lists(PLUGINS, max_size=3) | VALUES},
    optional={"cniVersion": VALUES, "name": VALUES, "disableCheck": VALUES, "cniVersions": VALUES, "disableGC": VALUES},
)


@pytest.mark.parametrize("kind,version", PAIRS, ids=PAIR_IDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_quick_check_agrees_with_jsonschema(kind: str, version: str, data: st.DataObject) -> None:
    instance = data.draw(LISTS if kind == "conflist" else PLUGINS)
    quick = schemas.quick_check(kind, version)(instance)
    event(f"valid={quick}")  # `pytest --hypothesis-show-statistics` shows both outcomes occur
    assert quick == schemas.validator(kind, version).is_valid(instance)


@pytest.mark.parametrize("kind,version", PAIRS, ids=PAIR_IDS)
def test_quick_check_agrees_on_the_real_world_corpus(kind: str, version: str, shared_corpus: Path) -> None:
    checked = 0
    for path in sorted(shared_corpus.iterdir()):
        try:
            doc = json.loads(path.read_bytes())
        except ValueError:
            continue
        for instance in (
            doc,
            *(doc.get("plugins") or [] if isinstance(doc, dict) and isinstance(doc.get("plugins"), list) else []),
        ):
            quick = schemas.quick_check(kind, version)(instance)
            assert quick == schemas.validator(kind, version).is_valid(instance), path.name
            checked += 1
    assert checked > 100


def test_quick_check_refuses_keywords_it_does_not_implement() -> None:
    for schema in (
        {"minimum": 1},
        {"type": "integer"},
        {"enum": [1]},
        {"$ref": "other.json"},
        {"patternProperties": {"a": True}, "additionalProperties": False},
    ):
        with pytest.raises(schemas.UnsupportedSchema):
            schemas._Compiler(schema).compile(schema)


def test_both_readers_return_the_same_bytes() -> None:
    for kind, version in PAIRS:
        relative = schemas.schema_path(kind, version)
        assert schemas.read_resource(relative) == schemas.read_packaged(relative)


def test_unknown_versions_have_no_schema() -> None:
    for version in ("1.0", "v1.0.0", "", "2.0.0", "0.3"):
        assert not schemas.has_schema(version)
        with pytest.raises(KeyError):
            schemas.schema_path("conflist", version)


# --- the repository's schemas/: the published artefact ------------------------------------

REPO_SCHEMA_FILES = sorted(REPO_SCHEMAS.rglob("*.schema.json"))


def test_the_package_reads_the_repository_schemas() -> None:
    # One copy: cnidoctor/_schemas is a relative symlink that setuptools follows at build time.
    link = ROOT / "cnidoctor" / "_schemas"
    assert link.is_symlink() and os.readlink(link) == "../schemas"
    listed = {REPO_SCHEMAS / e["path"] for e in json.loads((REPO_SCHEMAS / "index.json").read_bytes())["schemas"]}
    assert set(REPO_SCHEMA_FILES) == listed
    assert len(REPO_SCHEMA_FILES) == len(PAIRS)


@pytest.mark.parametrize("path", REPO_SCHEMA_FILES, ids=lambda p: p.relative_to(REPO_SCHEMAS).as_posix())
def test_repository_schema_has_an_id_and_is_valid_for_its_declared_draft(path: Path) -> None:
    schema = json.loads(path.read_bytes())
    assert urlsplit(schema["$id"]).scheme == "https"
    assert schema["$id"].endswith("/schemas/" + path.relative_to(REPO_SCHEMAS).as_posix())
    declared = validator_for(schema, default=None)  # the class for the draft named in "$schema"
    assert declared is not None, schema.get("$schema")
    declared.check_schema(schema)


# Spec 1.0.0 types ipMasq as a boolean (containernetworking/cni:SPEC.md@spec-v1.0.0), so the
# schema-violation fixture's "ipMasq": "true" must be rejected and clean-bridge accepted.
@pytest.mark.parametrize(("fixture", "exit_code"), [("clean-bridge", 0), ("schema-violation", 1)])
def test_check_jsonschema_validates_a_fixture_with_a_repository_schema(fixture: str, exit_code: int) -> None:
    tool = shutil.which("check-jsonschema", path=os.path.dirname(sys.executable)) or shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    (config,) = (FIXTURES / fixture / "net.d").glob("*.conflist")
    version = json.loads(config.read_bytes())["cniVersion"]
    schemafile = f"schemas/{version}/conflist.schema.json"
    argv = [tool, "--default-filetype", "json", "--schemafile", schemafile, str(config.relative_to(ROOT))]
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == exit_code, run.stdout + run.stderr
    if exit_code:
        assert "$.plugins[0].ipMasq" in run.stdout, run.stdout


# --- packaging: the schemas ship in the wheel and load from the installed package -----------

INSTALLED_CHECK = textwrap.dedent(
    """
    import json, os, sys
    from importlib import resources
    import cnidoctor
    from cnidoctor.config import schemas
    from cnidoctor.report import jsonreport
    from jsonschema import Draft202012Validator
    site, package_root, repo_schemas = sys.argv[1:4]
    assert sys.path.index(site) < sys.path.index(sys.argv[4].split(os.pathsep)[0])
    assert cnidoctor.__file__.startswith(package_root), cnidoctor.__file__
    packaged = resources.files("cnidoctor").joinpath("_schemas")
    index = json.loads(packaged.joinpath("index.json").read_bytes())
    for entry in index["schemas"]:
        node = packaged
        for part in entry["path"].split("/"):
            node = node.joinpath(part)
        with open(os.path.join(repo_schemas, *entry["path"].split("/")), "rb") as handle:
            assert node.read_bytes() == handle.read(), entry["path"]
        assert schemas.load_schema(entry["kind"], entry["version"])["$id"] == entry["$id"]
        assert schemas.read_packaged("_schemas/" + entry["path"]) == node.read_bytes()
    Draft202012Validator.check_schema(jsonreport.load_schema())
    print(len(index["schemas"]))
    """
)

# Build leftovers stay out of the copy: setuptools reuses an existing build/lib and would ship
# whatever stale files it holds (it shipped a removed cnidoctor/schemas/ once).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".hypothesis", "fixtures", "bench"
)


def _pip(*args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def _fresh_venv(tmp_path: Path) -> Tuple[Path, str]:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return python, site


def _run_installed_check(python: Path, site: str, package_root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Dependencies (jsonschema and friends) come from the test interpreter's site-packages,
    # appended by the script itself, after start-up: on PYTHONPATH they would come before the
    # fresh venv, and its editable .pth would import the test venv's finder module of the same
    # name (__editable___cnidoctor_0_1_0_finder) instead of its own.
    deps = os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONNOUSERSITE"] = "1"
    script = "import os, sys; sys.path.extend(sys.argv[4].split(os.pathsep))\n" + INSTALLED_CHECK
    argv = [str(python), "-c", script, site, str(package_root), str(REPO_SCHEMAS), deps]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd=cwd)


def test_schemas_ship_in_the_wheel(tmp_path: Path) -> None:
    """Build a wheel from a clean copy of the checkout, install it into a fresh venv, load every schema."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    _pip("wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheels"), str(source))
    (wheel,) = (tmp_path / "wheels").glob("cnidoctor-*.whl")
    python, site = _fresh_venv(tmp_path)
    _pip("install", "--no-deps", "-q", "--target", site, str(wheel))
    installed = Path(site, "cnidoctor", "_schemas")
    assert installed.is_dir() and not installed.is_symlink()  # real files, no link back to a checkout
    shutil.rmtree(source)  # nothing may come from the source tree any more
    run = _run_installed_check(python, site, Path(site), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(len(PAIRS))


def test_schemas_load_from_an_editable_install(tmp_path: Path) -> None:
    """`pip install -e .` (PEP 660, setuptools' editable finder) reads them through the symlink."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    python, site = _fresh_venv(tmp_path)
    _pip("install", "--no-deps", "-q", "--target", site, "-e", str(source))
    run = _run_installed_check(python, site, source / "cnidoctor", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(len(PAIRS))
