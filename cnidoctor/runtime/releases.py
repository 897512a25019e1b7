"""Runtime release strings as comparable keys ("v1.28.2", "1.14.3-rc1", "0.2.4" -> (1, 28, 2))."""

from __future__ import annotations

import re
from typing import Optional, Tuple

ReleaseKey = Tuple[int, int, int]

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def release_key(release: Optional[str]) -> Optional[ReleaseKey]:
    """(major, minor, patch) of a release string; None when absent or not a release number."""
    if not release:
        return None
    match = _RELEASE.match(release.strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def before(release: Optional[str], boundary: ReleaseKey) -> bool:
    """True only when ``release`` is known and older than ``boundary`` (unknown = newest)."""
    key = release_key(release)
    return key is not None and key < boundary
