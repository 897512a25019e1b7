"""CNI version strings, parsed and compared exactly as libcni does (not as PEP 440 does).

Sources: cni@v0.8.1 and cni@v1.3.0 pkg/version/plugin.go ``ParseVersion`` and
``GreaterThanOrEqualTo``; pkg/version/version.go ``All`` (containernetworking/cni:libcni/conf.go@v0.8.1 (ConfListFromBytes, ConfListFromConf); containernetworking/cni:pkg/version/plugin.go@v0.8.1 (ParseVersion); containernetworking/cni#882; fixed in v1.1.0 by containernetworking/cni#893).
Support decisions (skel's reconciler, libcni ``validatePlugin``) compare strings *exactly*;
only the ParseVersion-based gates (CHECK/DEL/GC/STATUS, cniVersions ordering) are numeric.
"""

from __future__ import annotations

import functools
import re
from typing import Optional, Tuple

# Every version string the spec has defined (cni pkg/version/version.go ``All`` at v1.3.0).
SPEC_VERSIONS: Tuple[str, ...] = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")

VersionTuple = Tuple[int, int, int]

# Go's strconv.Atoi accepts an optional sign and decimal digits (base 10, no underscores).
_ATOI = re.compile(r"^[+-]?[0-9]+$")
_INT_MAX = 2**63 - 1


class VersionError(ValueError):
    """A version libcni's ParseVersion rejects; ``str()`` is libcni's own error text."""


def _atoi(part: str, which: str) -> int:
    """strconv.Atoi with Go's error texts wrapped as ParseVersion wraps them."""
    if not _ATOI.match(part):
        raise VersionError(
            f'failed to convert {which} version part "{part}": strconv.Atoi: parsing "{part}": invalid syntax'
        )
    value = int(part)
    if not -_INT_MAX - 1 <= value <= _INT_MAX:
        raise VersionError(
            f'failed to convert {which} version part "{part}": strconv.Atoi: parsing "{part}": value out of range'
        )
    return value


@functools.lru_cache(maxsize=256)  # a handful of distinct strings, asked about for every file
def parse_version(version: str, *, empty_is_010: bool = True) -> VersionTuple:
    """libcni ``version.ParseVersion``.

    ``empty_is_010``: libcni >= v1.1.0 maps "" to 0.1.0 (GH cni#893); v0.7.0-v1.0.1 raise
    ``invalid version "": the version is empty`` instead - pass False to model those.
    "1.0" parses as (1, 0, 0); "1.0.0.0" fails with ``too many parts``.
    """
    if version == "":
        if empty_is_010:
            return (0, 1, 0)
        raise VersionError('invalid version "": the version is empty')
    parts = version.split(".")
    if len(parts) >= 4:
        raise VersionError(f'invalid version "{version}": too many parts')
    major = _atoi(parts[0], "major")
    minor = _atoi(parts[1], "minor") if len(parts) >= 2 else 0
    micro = _atoi(parts[2], "micro") if len(parts) >= 3 else 0
    return (major, minor, micro)


def try_parse(version: str) -> Optional[VersionTuple]:
    """The parsed tuple, or None when libcni (>= v1.1.0) would reject the string."""
    try:
        return parse_version(version)
    except VersionError:
        return None


def at_least(version: str, minimum: str) -> bool:
    """libcni ``GreaterThanOrEqualTo``; False when ``version`` does not parse."""
    parsed = try_parse(version)
    return parsed is not None and parsed >= parse_version(minimum)


def is_spec_version(version: str) -> bool:
    """True only for the exact strings the spec defines ("1.0" and "v1.0.0" are not)."""
    return version in SPEC_VERSIONS


def effective_version(declared: Optional[str]) -> str:
    """What a plugin is told: an absent or empty cniVersion reaches plugins as "0.1.0"
    (skel's reconciler and libcni >= v0.8.0 ``validatePlugin`` map "" to 0.1.0)."""
    return declared if declared else "0.1.0"


def go_quote_list(versions: Tuple[str, ...]) -> str:
    """Go's ``%q`` of a []string, as skel prints supported versions: ["0.1.0" "0.2.0"]."""
    return "[" + " ".join(f'"{v}"' for v in versions) + "]"


def incompatible_text(config_version: str, supported: Tuple[str, ...]) -> str:
    """The plugin-side error (skel ``checkVersionAndCall``, code 1) for a version it lacks."""
    return f'incompatible CNI versions; config is "{config_version}", plugin supports {go_quote_list(supported)}'
