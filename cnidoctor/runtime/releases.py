"""Runtime releases as comparable values ("v1.28.2", "1.14.3-rc1", "2.0.2-k3s2" -> 2.0.2).

One parser for every runtime reader: the leading ``major.minor[.patch]`` of a release string,
distribution suffixes (``~ds1``, ``-k3s2``, ``-rc1``) dropped, a missing patch read as 0.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ..frozen import dataclass

ReleaseKey = Tuple[int, int, int]

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True)
class Release:
    """A runtime release as major.minor.patch (distribution suffixes dropped)."""

    major: int
    minor: int
    patch: int

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.key >= (major, minor, patch)

    @property
    def key(self) -> ReleaseKey:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def _leading(text: Optional[str]) -> Optional[re.Match[str]]:
    return _RELEASE.match(text.strip()) if text else None


def parse_release(text: Optional[str]) -> Optional[Release]:
    """``1.6.20~ds1``, ``v1.7.13``, ``2.0.2-k3s2``, ``1.7.27`` -> Release; None when not a version."""
    match = _leading(text)
    if not match:
        return None
    return Release(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def release_number(text: Optional[str]) -> Optional[str]:
    """The same leading number as written, for a ``--runtime`` spec: ``v1.7.13-k3s1`` ->
    ``1.7.13``, ``1.28`` -> ``1.28`` (kept without a patch: the matrix reports it so)."""
    match = _leading(text)
    return match.group(0).lstrip("v") if match else None


def before(release: Optional[str], boundary: ReleaseKey) -> bool:
    """True only when ``release`` is known and older than ``boundary`` (unknown = newest)."""
    parsed = parse_release(release)
    return parsed is not None and parsed.key < boundary
