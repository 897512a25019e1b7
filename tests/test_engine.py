"""The engine's parallel per-file path gives exactly what the serial path gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnidoctor import engine
from cnidoctor.settings import Settings


def write_configs(directory: Path, count: int) -> None:
    directory.mkdir()
    for index in range(count):
        doc = {
            "cniVersion": "1.0.0" if index % 3 else "0.3.1",
            "name": f"net{index}",
            "plugins": [
                {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}},
                {"type": "portmap"},
            ],
        }
        text = json.dumps(doc)
        if index % 7 == 0:
            text = text.rstrip("}") + ",}"  # trailing comma: a syntax finding with a position
        (directory / f"{index:04d}-net.conflist").write_text(text)


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_configs(tmp_path / "net.d", 60)
    options = engine.Options(paths=(str(tmp_path / "net.d"),))
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**9)
    serial = engine.run(options, Settings())
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 2)
    parallel = engine.run(options, Settings())
    assert serial.findings and parallel.findings == serial.findings
    assert parallel.selected == serial.selected and parallel.files == serial.files


def test_worker_pool_really_runs(tmp_path: Path) -> None:
    write_configs(tmp_path / "net.d", 40)
    candidates = engine.discover.discover([str(tmp_path / "net.d")]).candidates
    parsed = [engine.parse.parse(c) for c in candidates]
    pooled = engine._in_workers(parsed, 2)
    assert pooled is not None  # the pool ran; None would mean the serial fallback
    serial = [(p, engine.analyse_one(p)) for p in (engine.parse.parse(c) for c in candidates)]
    assert pooled == [found for _, found in serial]
