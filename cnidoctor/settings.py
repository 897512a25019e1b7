"""Settings: .cnidoctor.toml / [tool.cnidoctor] merged with command-line flags.

(Placeholder kept minimal; owned by the settings/reporters work package.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

from .model import Finding


@dataclass(frozen=True)
class Settings:
    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()

    def apply(self, findings: Iterable[Finding], files: Sequence[str]) -> List[Finding]:
        out = []
        for f in findings:
            if self.select and not any(f.code.startswith(s) for s in self.select):
                continue
            if any(f.code.startswith(s) for s in self.ignore):
                continue
            out.append(f)
        return out

    def with_flags(self, select: Tuple[str, ...] = (), ignore: Tuple[str, ...] = ()) -> "Settings":
        return Settings(select=select or self.select, ignore=self.ignore + ignore)


def load(explicit_path: "str | None", cwd: str) -> Settings:
    return Settings()
