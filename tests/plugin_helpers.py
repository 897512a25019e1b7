"""Helpers for the binary/probe tests: fake plugin copies and hand-made ELF files (in tmp_path).

ELF files are generated here instead of committed: a 64-byte ELF64 header, optionally followed
by one PT_INTERP program header and the loader path (System V gABI, "ELF header" and
"Program header" layouts). Enough for execve and pyelftools; not a runnable program.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Optional

FAKES = Path(__file__).resolve().parent.parent / "fixtures" / "plugins"
REAL = Path("/usr/lib/cni")
REAL_NAMES = (
    "bandwidth",
    "bridge",
    "dhcp",
    "firewall",
    "host-device",
    "host-local",
    "ipvlan",
    "loopback",
    "macvlan",
    "portmap",
    "ptp",
    "sbr",
    "static",
    "tuning",
    "vlan",
    "vrf",
)

EM_X86_64 = 62
EM_AARCH64 = 183
HOST_MACHINE = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64}.get(os.uname().machine)


def foreign_machine() -> int:
    return EM_AARCH64 if HOST_MACHINE == EM_X86_64 else EM_X86_64


def real_plugins_present() -> bool:
    return all((REAL / name).is_file() for name in REAL_NAMES)


def fake(bin_dir: Path, fake_name: str, as_name: Optional[str] = None) -> Path:
    """Copy fixtures/plugins/<fake_name> into ``bin_dir`` (mode 0755) and return its path."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    target = bin_dir / (as_name or fake_name)
    shutil.copyfile(FAKES / fake_name, target)
    target.chmod(0o755)
    return target


def write_elf(path: Path, machine: int, interp: Optional[str] = None, e_type: int = 2) -> Path:
    """A little-endian ELF64 executable header (+ PT_INTERP when ``interp``), mode 0755."""
    phnum = 1 if interp else 0
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # ELFCLASS64, LSB, EV_CURRENT, SYSV
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", e_type, machine, 1, 0x400000, 64 if phnum else 0, 0, 0, 64, 56, phnum, 64, 0, 0
    )
    body = b""
    if interp:
        data = interp.encode() + b"\0"
        offset = 64 + 56
        body = struct.pack("<IIQQQQQQ", 3, 4, offset, offset, offset, len(data), len(data), 1) + data
    path.write_bytes(header + body)
    path.chmod(0o755)
    return path


def kernel_exec_error(path: Path) -> Optional[str]:
    """What the real kernel says when asked to execute ``path`` (None if it started).

    Used only on files the tests themselves generated, to check cnidoctor's prediction
    against reality; a started process is killed at once.
    """
    import subprocess

    try:
        proc = subprocess.Popen(
            [str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin"},
        )
    except OSError as exc:
        return os.strerror(exc.errno or 0).lower()
    proc.kill()
    proc.wait()
    return None
