"""Runs logship in follow mode for black-box tests: starts it with an
isolated state dir, learns its listen port from its own JSON logs, and
offers polling helpers (no fixed ports, no fixed sleeps)."""

import json
import os
import pathlib
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

from conftest import BIN, clean_env, wait_for


class FollowAgent:
    def __init__(self, tmp: pathlib.Path, inputs: str, out: pathlib.Path | None = None, **env):
        self.tmp = tmp
        self.out = out or (tmp / "out.ndjson")
        self.state = tmp / "state"
        self.env = clean_env(
            LOGSHIP_INPUT_PATHS=inputs,
            LOGSHIP_STATE_DIR=self.state,
            LOGSHIP_SINK="file",
            LOGSHIP_FILE_PATH=self.out,
            LOGSHIP_LISTEN="127.0.0.1:0",
            LOGSHIP_BATCH_TIMEOUT_MS="50",
            LOGSHIP_RESCAN_MS="200",
            LOGSHIP_ROTATE_WAIT_MS="300",
            **env,
        )
        self.proc = None
        self.port = None
        self.log_lines = []
        self._reader = None

    @classmethod
    def with_env(cls, tmp: pathlib.Path, env: dict):
        """An agent run with a complete environment of the caller's (its own
        inputs, sink and state dir), plus the loopback listen address and the
        short follow-mode timers every agent here uses."""
        agent = cls(tmp, env.get("LOGSHIP_INPUT_PATHS", ""))
        agent.env = dict(env, **{k: agent.env[k] for k in (
            "LOGSHIP_LISTEN", "LOGSHIP_BATCH_TIMEOUT_MS", "LOGSHIP_RESCAN_MS", "LOGSHIP_ROTATE_WAIT_MS")})
        return agent

    def start(self):
        self.proc = subprocess.Popen([str(BIN)], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_logs, daemon=True)
        self._reader.start()
        wait_for(lambda: self.port is not None or self.proc.poll() is not None, timeout=20, what="listen port")
        assert self.proc.poll() is None, self.stderr()
        return self

    def _read_logs(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_lines.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "listening":
                self.port = entry["port"]

    def stderr(self):
        return "\n".join(self.log_lines)

    def get(self, path):
        """(status, body) of GET http://127.0.0.1:<port><path>."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, body = self.get("/metrics")
        assert status == 200
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def records(self):
        if not self.out.exists():
            return []
        data = self.out.read_bytes()
        # Only whole lines: the sink may be mid-write.
        data = data[: data.rfind(b"\n") + 1]
        return [json.loads(l) for l in data.splitlines()]

    def wait_records(self, n, timeout=30):
        wait_for(lambda: len(self.records()) >= n, timeout=timeout, what=f"{n} records")
        return self.records()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        if self._reader:
            self._reader.join(timeout=5)
        return self.proc.returncode

    def rss_bytes(self):
        status = pathlib.Path(f"/proc/{self.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def peak_rss_bytes(self):
        status = pathlib.Path(f"/proc/{self.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


def cri_line(payload: str, stream="stdout", tag="F") -> bytes:
    return f"2026-11-26T23:08:04.000000001Z {stream} {tag} {payload}\n".encode()
