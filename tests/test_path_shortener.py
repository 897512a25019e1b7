"""PathShortener's indexed look-up against the plain regular expression it replaced (the
definition of the display: longest known path first, not preceded by [\\w./-], not followed by
[\\w.+@-]), on generated paths and texts, including characters outside [\\w./+@-]."""

from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional

from hypothesis import given, settings
from hypothesis import strategies as st

from cnidoctor.report import KnownPaths, PathShortener, display_path


def regex_shorten(home: Optional[str], known: Iterable[str], base_dir: str, text: str) -> str:
    """The display as one alternation over every changed path (the implementation before the index)."""
    home_dir = os.path.dirname(home) if home else None
    mapping: Dict[str, str] = {}
    for path in set(known) | ({home} if home else set()):
        if not path or "/" not in path:
            continue
        if path == home and os.path.dirname(path) != path:
            mapping[path] = os.path.basename(path) or path
        elif home_dir is not None and os.path.dirname(path) == home_dir:
            mapping[path] = os.path.basename(path)
        else:
            mapping[path] = display_path(path, base_dir)
    mapping = {k: v for k, v in mapping.items() if k != v}
    if not mapping or not text:
        return text
    order = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(?:" + "|".join(re.escape(p) + r"(?![\w.+@-])" for p in order) + ")")
    return pattern.sub(lambda m: mapping[m.group(0)], text)


SEGMENT = st.text(alphabet="ab.-_+@ é1", min_size=0, max_size=4)
PATH = st.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    st.booleans(),
    st.lists(SEGMENT, min_size=1, max_size=4),
)
BASE_DIRS = st.sampled_from([".", "/", "/a", "/a/b", "a"])


@settings(max_examples=400, deadline=None)
@given(
    known=st.lists(PATH, max_size=6),
    home=st.one_of(st.none(), PATH),
    base_dir=BASE_DIRS,
    glue=st.lists(st.text(alphabet=" ()'\",:/.+@-a", max_size=3), min_size=1, max_size=8),
    picks=st.lists(st.integers(min_value=0, max_value=7), max_size=8),
)
def test_index_matches_the_regular_expression(
    known: List[str], home: Optional[str], base_dir: str, glue: List[str], picks: List[int]
) -> None:
    candidates = [*known, *([home] if home else []), "/"]
    pieces = [glue[0]]
    for index, pick in enumerate(picks):
        pieces += [candidates[pick % len(candidates)], glue[(index + 1) % len(glue)]]
    text = "".join(pieces)
    expected = regex_shorten(home, known, base_dir, text)
    assert PathShortener(home, known, base_dir)(text) == expected
    assert PathShortener(home, KnownPaths(known, base_dir), base_dir)(text) == expected


def test_same_directory_paths_shown_by_name_nested_paths_longest_first() -> None:
    known = ["/etc/cni/net.d", "/etc/cni/net.d/10-a.conf", "/etc/cni/net.d/10-a.conf.bak", "/opt/x/y+z"]
    shorten = PathShortener("/etc/cni/net.d/20-b.conflist", known, "/")
    text = "see /etc/cni/net.d/10-a.conf, /etc/cni/net.d/10-a.conf.bak (in /etc/cni/net.d) and a+/opt/x/y+z/w"
    assert shorten(text) == "see 10-a.conf, 10-a.conf.bak (in etc/cni/net.d) and a+opt/x/y+z/w"
    assert shorten(text) == regex_shorten("/etc/cni/net.d/20-b.conflist", known, "/", text)
