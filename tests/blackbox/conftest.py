"""Shared helpers for logship's black-box tests: they run build/logship as a
user would (environment variables, files, exit codes) and check its output."""

import json
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("LOGSHIP_BIN", ROOT / "build" / "logship"))
LOGGEN = pathlib.Path(os.environ.get("LOGSHIP_LOGGEN", ROOT / "bench" / "loggen.py"))


def _sanitized():
    try:
        out = subprocess.run(["ldd", str(BIN)], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "libasan" in out or "libubsan" in out


# An ASan/UBSan build: its memory use (shadow memory, quarantine) says
# nothing about logship's, so RSS bounds are checked on the release build only.
SANITIZED = _sanitized()


def clean_env(**extra):
    """The process environment without any LOGSHIP_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGSHIP_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_logship(env, *args, timeout=120, **kw):
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, timeout=timeout, **kw)


def read_records(path):
    """Parses an NDJSON output file strictly: every line must be valid JSON."""
    data = pathlib.Path(path).read_bytes()
    assert data == b"" or data.endswith(b"\n"), "output must end with a newline"
    out = []
    for raw in data.splitlines():
        raw.decode("utf-8")  # valid UTF-8 or this raises
        out.append(json.loads(raw))
    return out


def wait_for(cond, timeout=30.0, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def logship_bin():
    assert BIN.exists(), f"{BIN} not built"
    return BIN


CID = "c" * 64


def pod_file(root, ns, pod, container, uid="uid"):
    """An empty container log file in a kubelet tree under `root`:
    pods/<ns>_<pod>_<uid>/<container>/0.log and its containers/ symlink."""
    d = root / "pods" / f"{ns}_{pod}_{uid}" / container
    d.mkdir(parents=True, exist_ok=True)
    f = d / "0.log"
    f.touch()
    link = root / "containers" / f"{pod}_{ns}_{container}-{CID}.log"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        os.symlink(f, link)
    return f


@pytest.fixture
def api(tmp_path):
    """A fake Kubernetes API server on loopback, stopped after the test."""
    from k8s_api_server import K8sApiServer
    (tmp_path / "api").mkdir()
    server = K8sApiServer(tmp_path / "api").start()
    yield server
    server.stop()
