"""elfinfo._plain_elf (ELF headers read with struct, so a first run need not import pyelftools)
agrees with pyelftools itself wherever it answers, on real binaries and on damaged copies.

The reference is the real library: for every file, either _plain_elf declines (None, and
pyelftools reads the file as before) or pyelftools reads the same e_type, e_machine, class,
endianness and PT_INTERP path without raising.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from conftest import FIXTURES
from plugin_helpers import write_elf

from cnidoctor.plugins.elfinfo import _plain_elf

elffile = pytest.importorskip("elftools.elf.elffile")


def reference(path: Path) -> Optional[Tuple[str, str, int, bool, Optional[str]]]:
    """What pyelftools reads (the same calls as elfinfo's pyelftools path); None if it raises."""
    try:
        with open(path, "rb") as handle:
            elf = elffile.ELFFile(handle)
            loader = None
            for segment in elf.iter_segments():
                if segment["p_type"] == "PT_INTERP":
                    loader = str(segment.get_interp_name())
                    break
            return elf["e_type"], elf["e_machine"], elf.elfclass, elf.little_endian, loader
    except Exception:
        return None


def real_elf_files() -> List[Path]:
    candidates = [*Path("/usr/lib/cni").glob("*"), *FIXTURES.glob("*/bin/*")]
    candidates += [Path(p) for p in ("/bin/sh", "/usr/bin/env", "/lib64/ld-linux-x86-64.so.2")]
    out = []
    for path in candidates:
        try:
            if path.is_file() and path.open("rb").read(4) == b"\x7fELF":
                out.append(path)
        except OSError:
            continue
    return sorted(set(out))


def agrees(path: Path) -> bool:
    plain = _plain_elf(str(path))
    return plain is None or plain == reference(path)


def test_real_binaries_are_read_without_pyelftools_and_alike() -> None:
    files = real_elf_files()
    if not files:
        pytest.skip("no ELF binary found")
    answered = [p for p in files if _plain_elf(str(p)) is not None]
    assert answered, "the plain reader declined every real binary"
    for path in files:
        assert agrees(path), path


@pytest.mark.parametrize(
    ("machine", "interp", "e_type"),
    [(62, None, 2), (62, "/lib64/ld-linux-x86-64.so.2", 3), (183, "/lib/ld-linux-aarch64.so.1", 2), (40, None, 2)],
)
def test_generated_headers(tmp_path: Path, machine: int, interp: Optional[str], e_type: int) -> None:
    path = write_elf(tmp_path / "plugin", machine, interp, e_type)
    assert _plain_elf(str(path)) is not None
    assert agrees(path)


def test_unusual_files_are_left_to_pyelftools(tmp_path: Path) -> None:
    assert _plain_elf(str(write_elf(tmp_path / "rel", 62, None, e_type=1))) is None  # ET_REL: named by pyelftools
    assert _plain_elf(str(write_elf(tmp_path / "odd", 0x9999, None))) is None  # unknown machine
    bad = tmp_path / "latin1"
    write_elf(bad, 62, "/lib/ld")
    data = bytearray(bad.read_bytes())
    data[-2] = 0xE9  # not UTF-8: pyelftools raises, so must be the one to read it
    bad.write_bytes(bytes(data))
    assert _plain_elf(str(bad)) is None
    assert reference(bad) is None


def test_damaged_copies_never_disagree(tmp_path: Path) -> None:
    """Truncations and flipped bytes in the headers of a real binary (seeded): where the plain
    reader answers, pyelftools answers the same."""
    files = [p for p in real_elf_files() if p.stat().st_size > 4096]
    if not files:
        pytest.skip("no ELF binary found")
    head = files[0].open("rb").read(1 << 16)
    rng = random.Random(11)
    target = tmp_path / "damaged"
    cases = [head[:n] for n in (16, 52, 63, 64, 100, 120, 200, 400, 800, 900)]
    for _ in range(300):
        data = bytearray(head[:4096])
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(4, 1024)] = rng.randrange(256)
        cases.append(bytes(data))
    # a PT_INTERP pointing past the data read, and a huge e_phnum
    cases.append(head[:64] + struct.pack("<IIQ", 3, 4, 1 << 40) + head[80:4096])
    answered = 0
    for data in cases:
        target.write_bytes(data)
        assert agrees(target), data[:128].hex()
        answered += _plain_elf(str(target)) is not None
    assert answered > 0
