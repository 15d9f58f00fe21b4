"""Kafka brokers for the black-box tests and reading their topics back.

The single broker comes from the environment (KAFKA_BROKERS and KAFKA_DIR,
exported by scripts/test.sh); without them the `kafka` fixture starts its
own and stops it at the end of the module. Messages are read back with
tests/kafka/kafka_consume (librdkafka), which reads every partition up to
the high watermark it saw at start."""

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import BIN, ROOT, clean_env
from follow_agent import FollowAgent, cri_line

KAFKA_SH = ROOT / "tests" / "kafka" / "kafka.sh"
PROBE = ROOT / "tests" / "kafka" / "kafka_probe.py"
CONSUME = pathlib.Path(os.environ.get("LOGSHIP_KAFKA_CONSUME", BIN.parent / "tests" / "kafka" / "kafka_consume"))


# --------------------------------------------------------------------------
# Brokers and reading back


class Cluster:
    def __init__(self, brokers, directory):
        self.brokers = brokers
        self.dir = directory

    def sh(self, *args, timeout=180):
        r = subprocess.run([str(KAFKA_SH), *args, "--dir", self.dir], capture_output=True, text=True,
                           timeout=timeout)
        assert r.returncode == 0, f"kafka.sh {' '.join(args)} failed:\n{r.stderr[-3000:]}"
        return r

    def metadata(self, topic=None):
        cmd = ["python3", str(PROBE), "metadata", "-b", self.brokers, "--json"]
        if topic:
            cmd += ["-t", topic]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)


def start_cluster(n):
    directory = tempfile.mkdtemp(prefix="logship-kafka-test.")
    r = subprocess.run([str(KAFKA_SH), "start", "--brokers", str(n), "--dir", directory], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise AssertionError(f"cannot start a {n}-broker Kafka cluster:\n{r.stderr[-3000:]}")
    env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return Cluster(env["KAFKA_BROKERS"], directory)


def stop_cluster(cluster):
    subprocess.run([str(KAFKA_SH), "stop", "--dir", cluster.dir, "--rm"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def kafka():
    """The single-broker cluster: scripts/test.sh's, or one of our own."""
    if os.environ.get("KAFKA_BROKERS") and os.environ.get("KAFKA_DIR"):
        yield Cluster(os.environ["KAFKA_BROKERS"], os.environ["KAFKA_DIR"])
        return
    yield from own_cluster(1)


def own_cluster(n):
    """For a fixture: an n-broker cluster started for it and stopped after."""
    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.skip("java/mvn needed to start brokers (scripts/test.sh installs them)")
    cluster = start_cluster(n)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def new_topic(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Message:
    def __init__(self, d):
        self.topic = d["topic"]
        self.partition = d["partition"]
        self.offset = d["offset"]
        self.key = None if d["key"] is None else base64.b64decode(d["key"])
        self.headers = [(name, base64.b64decode(v)) for name, v in d["headers"]]
        self.value = base64.b64decode(d["value"])


def consume(brokers, *topics, timeout=90):
    """Everything the topics hold now, in (topic, partition, offset) order."""
    assert CONSUME.exists(), f"{CONSUME} not built"
    cmd = [str(CONSUME), "--brokers", brokers, "--timeout-ms", str(timeout * 1000)]
    for t in topics:
        cmd += ["--topic", t]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout + 30)
    assert r.returncode == 0, r.stderr.decode()
    return [Message(json.loads(line)) for line in r.stdout.splitlines()]


def kafka_env(tmp, brokers, topic, **extra):
    settings = dict(LOGSHIP_SINK="kafka", LOGSHIP_KAFKA_BROKERS=brokers, LOGSHIP_KAFKA_TOPIC=topic,
                    LOGSHIP_STATE_DIR=tmp / "state-kafka", LOGSHIP_LISTEN="off")
    settings.update(extra)
    return clean_env(**settings)


def kafka_agent(tmp, inputs, brokers, topic, **env):
    """A follow-mode agent (FollowAgent) switched to the Kafka sink."""
    agent = FollowAgent(tmp, inputs)
    agent.env.pop("LOGSHIP_FILE_PATH")
    agent.env.update({"LOGSHIP_SINK": "kafka", "LOGSHIP_KAFKA_BROKERS": brokers, "LOGSHIP_KAFKA_TOPIC": topic})
    agent.env.update({k: str(v) for k, v in env.items()})
    return agent


def ids_of(messages):
    return [json.loads(m.value)["log"]["n"] for m in messages]


class Writer(threading.Thread):
    """Appends CRI lines {"n": i, ...} to `path` at about `rate` lines/s."""

    def __init__(self, path, rate=2000, pad=200):
        super().__init__(daemon=True)
        self.path, self.rate, self.pad = path, rate, pad
        self.count = 0
        self.done = threading.Event()

    def run(self):
        start = time.monotonic()
        with open(self.path, "ab") as f:
            while not self.done.is_set():
                due = int((time.monotonic() - start) * self.rate)
                while self.count < due:
                    f.write(cri_line(json.dumps({"n": self.count, "pad": "p" * self.pad})))
                    self.count += 1
                f.flush()
                time.sleep(0.01)

    def stop(self):
        self.done.set()
        self.join()
        return self.count


def start_cluster_without_autocreate():
    """kafka.sh's readiness check auto-creates a topic, so the cluster is
    started normally and then restarted with auto-creation off."""
    cluster = start_cluster(1)
    try:
        cluster.sh("stop")
        props = pathlib.Path(cluster.dir) / "broker-0" / "server.properties"
        text = props.read_text().replace("auto.create.topics.enable=true", "auto.create.topics.enable=false")
        assert "auto.create.topics.enable=false" in text
        props.write_text(text)
        # The readiness topic exists already, so start's check still passes.
        cluster.sh("start")
        return cluster
    except BaseException:
        stop_cluster(cluster)
        raise
