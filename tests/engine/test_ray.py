"""The Ray engine against a real Ray cluster that this module starts on 127.0.0.1 and stops.

:class:`retold.engine.ray.LoopbackCluster` runs ``ray start --head --block`` in its own process
group, bound to loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray use 127.0.0.1 as the
node address instead of the machine's outward address), with token authentication on a token made
for the run, and stops it afterwards; the scans run as ``retold`` subprocesses with ``--engine ray
--address 127.0.0.1:PORT``. Every wait is bounded.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'retold[ray]')")

from conftest import kill_after_checkpoint  # noqa: E402
from retold.engine.ray import LoopbackCluster  # noqa: E402

RETOLD = [sys.executable, "-m", "retold"]
OUTPUTS = (
    "kept.jsonl",
    "dropped.jsonl",
    "clusters.jsonl",
    "quarantine.jsonl",
    "report.json",
    "report.html",
    "premises.jsonl",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackCluster]:
    with LoopbackCluster(cpus=2) as c:
        yield c


def _corpus(path: Path) -> Path:
    """Stories with planted exact and near copies, a mojibake record and unreadable lines."""
    from retold.demo.generator import generate_corpus

    records, _ = generate_corpus(120, seed=3)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[5:5] = ["{not json", '{"id": "moji", "text": "caf√© au lait, r√©sum√© of the day"}', '{"id": 3}']
    path.write_text("\n".join(lines) + "\n")
    return path


def _scan(corpus: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [*RETOLD, "scan", str(corpus), "--out", str(out), "-q", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "summary.json").read_text())


def test_ray_engine_gives_the_local_engines_outputs_byte_for_byte(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    local = _scan(corpus, tmp_path / "local", "--workers", "2")
    remote = _scan(corpus, tmp_path / "ray", "--engine", "ray", "--address", cluster.address, env=cluster.env)
    index = sorted(str(p.relative_to(tmp_path / "local")) for p in (tmp_path / "local" / "index").iterdir())
    assert "index/manifest.json" in index
    for name in (*OUTPUTS, *index):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name
    assert remote["engine"] == "ray" and remote["workers"] == 2
    assert local["engine"] == "local"
    assert remote["dropped"] == local["dropped"] and remote["dropped"]
    assert remote["quarantined"] == 2 and remote["repaired"] >= 1
    assert remote["documents_in"] == remote["kept"] + sum(remote["dropped"].values()) + 2


def test_ray_engine_with_one_worker(cluster: LoopbackCluster, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    _scan(corpus, tmp_path / "local", "--workers", "1")
    remote = _scan(
        corpus,
        tmp_path / "ray",
        "--engine",
        "ray",
        "--address",
        cluster.address,
        "--workers",
        "1",
        env=cluster.env,
    )
    assert remote["workers"] == 1
    for name in OUTPUTS:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name


def test_ray_engine_takes_a_dataframe_from_the_api(cluster: LoopbackCluster, tmp_path: Path) -> None:
    """An in-memory corpus runs on Ray as a file does: the same records come back, in its type."""
    pytest.importorskip("pandas", reason="pandas is a dev extra (make test installs it)")
    script = f"""
import json, pandas as pd, retold
from retold.demo.generator import generate_corpus
df = pd.DataFrame(generate_corpus(120, seed=3)[0])
outs = {{}}
for engine in ("local", "ray"):
    extra = {{"address": {cluster.address!r}}} if engine == "ray" else {{}}
    with retold.scan(df, engine=engine, quiet=True, report=False, **extra) as result:
        kept = result.kept_data()
        assert type(kept).__name__ == "DataFrame", type(kept)
        outs[engine] = (kept.to_json(), result.dropped_data().to_json(), result.dropped)
assert outs["local"] == outs["ray"], "ray and local differ"
print(json.dumps(outs["ray"][2]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=cluster.env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])  # something was dropped, on both engines


def test_unreachable_address_fails_fast_with_a_message(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "one"}\n')
    t = time.monotonic()
    done = subprocess.run(
        [
            *RETOLD,
            "scan",
            str(corpus),
            "--out",
            str(tmp_path / "o"),
            "--engine",
            "ray",
            "--address",
            f"127.0.0.1:{_free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no Ray cluster answers at --address" in done.stderr
    assert time.monotonic() - t < 60
    assert not (tmp_path / "o" / "kept.jsonl").exists()


def test_address_without_ray_engine_is_a_usage_error(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "one"}\n')
    done = subprocess.run(
        [*RETOLD, "scan", str(corpus), "--out", str(tmp_path / "o"), "--address", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--address is for --engine ray" in done.stderr


def test_a_killed_ray_run_resumes_under_the_local_engine(cluster: LoopbackCluster, tmp_path: Path) -> None:
    """The engine is not part of a run's fingerprint: the checkpoint a Ray run left is resumed locally."""
    from retold.demo.generator import generate_corpus

    records, _ = generate_corpus(1500, seed=5)
    corpus = tmp_path / "big.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    env = {**cluster.env, "RETOLD_CHECKPOINT_EVERY": "200"}
    _scan(corpus, tmp_path / "ref", "--workers", "1", env=env)
    out = tmp_path / "o"
    command = [*RETOLD, "scan", str(corpus), "--out", str(out), "-q", "--engine", "ray"]
    kill_after_checkpoint([*command, "--address", cluster.address], out, env)
    assert not (out / "kept.jsonl").exists()
    resumed = _scan(corpus, out, "--workers", "1", env=env)
    assert resumed["engine"] == "local"
    for name in OUTPUTS:
        assert (tmp_path / "ref" / name).read_bytes() == (out / name).read_bytes(), name


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_under_ray_stops_cleanly_and_the_rerun_resumes(
    cluster: LoopbackCluster, tmp_path: Path, signum: int, code: int
) -> None:
    from retold.demo.generator import generate_corpus

    records, _ = generate_corpus(1500, seed=5)
    corpus = tmp_path / "big.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    env = {**cluster.env, "RETOLD_CHECKPOINT_EVERY": "200"}
    out = tmp_path / "o"
    command = [
        *RETOLD,
        "scan",
        str(corpus),
        "--out",
        str(out),
        "-q",
        "--engine",
        "ray",
        "--address",
        cluster.address,
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    checkpoint = out / ".retold-work" / "checkpoint.pkl"
    deadline = time.monotonic() + 180
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before its first checkpoint"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err[-3000:]
    assert "Traceback" not in err and "rerun the same command to resume" in err, err[-3000:]
    resumed = _scan(corpus, out, "--engine", "ray", "--address", cluster.address, env=env)
    assert resumed["documents_in"] >= 1500
