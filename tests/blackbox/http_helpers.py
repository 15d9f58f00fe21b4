"""Shared pieces of the HTTP sink's black-box tests: a kubelet-style input
tree whose records carry (file, seq) so delivery can be checked exactly,
the logship environment for the http sink, and TLS material made with the
openssl CLI."""

from __future__ import annotations

import json
import pathlib
import subprocess

from conftest import clean_env

POD_UID = "0f8e6a2c-1b2c-4d5e-8f90-123456789abc"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
LEVELS = ["info", "warn", "error", "debug"]


def make_inputs(root: pathlib.Path, files=(("shop", "checkout-1", "app"), ("shop", "cart-2", "app"),
                                         ("ops", "db-0", "postgres")), lines=150, pad=0):
    """CRI files under root/pods/<ns>_<pod>_<uid>/<container>/0.log. Record i
    of a file is {"level", "msg", "file", "seq": i, "trace_id", "span_id"}.
    Returns the glob and {file key: count}."""
    counts = {}
    for fi, (ns, pod, container) in enumerate(files):
        d = root / "pods" / f"{ns}_{pod}_{POD_UID}" / container
        d.mkdir(parents=True, exist_ok=True)
        key = f"{ns}/{pod}/{container}"
        out = []
        for i in range(lines):
            payload = {"level": LEVELS[i % len(LEVELS)], "msg": "m" * pad + f"record {i} of {key}", "file": key,
                       "seq": i, "trace_id": TRACE, "span_id": SPAN}
            # Offsets other than Z must be converted correctly.
            ts = f"2026-11-26T23:{fi:02d}:{i // 60 % 60:02d}.{i:09d}+10:00" if fi % 2 else \
                f"2026-11-26T13:{fi:02d}:{i // 60 % 60:02d}.{i:09d}Z"
            out.append(f"{ts} {'stderr' if i % 5 == 0 else 'stdout'} F {json.dumps(payload)}\n")
        (d / "0.log").write_text("".join(out))
        counts[key] = lines
    return str(root / "pods" / "*" / "*" / "0.log"), counts


def http_env(tmp: pathlib.Path, inputs: str, url: str, **extra):
    env = dict(
        LOGSHIP_INPUT_PATHS=inputs,
        LOGSHIP_STATE_DIR=tmp / "state",
        LOGSHIP_SINK="http",
        LOGSHIP_HTTP_URL=url,
        LOGSHIP_LISTEN="off",
        LOGSHIP_BATCH_MAX_BYTES="4KiB",
        LOGSHIP_RELEASE="checkout@1.4.2",
    )
    env.update(extra)
    return clean_env(**env)


def check_exactly_once(records, counts, ordered=True):
    """Every (file, seq) arrives exactly once; with `ordered`, each file's
    records arrive in order."""
    seen = {}
    for rec in records:
        log = rec["log"]
        seen.setdefault(log["file"], []).append(log["seq"])
    assert set(seen) == set(counts), f"files {sorted(seen)} != {sorted(counts)}"
    for key, n in counts.items():
        seqs = seen[key]
        assert sorted(seqs) == list(range(n)), f"{key}: missing or duplicated records"
        if ordered:
            assert seqs == list(range(n)), f"{key}: out of order"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: pathlib.Path, name: str):
    """A self-signed CA: d/<name>.key, d/<name>.crt."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.crt",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d)
    return d / f"{name}.crt"


def make_cert(d: pathlib.Path, ca: str, name: str, san="IP:127.0.0.1,DNS:localhost", client=False):
    """A leaf certificate signed by CA `ca`: d/<name>.key, d/<name>.crt."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", cwd=d)
    ext = d / f"{name}.ext"
    usage = "clientAuth" if client else "serverAuth"
    ext.write_text(f"subjectAltName={san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", ext.name, "-out", f"{name}.crt", cwd=d)
    return d / f"{name}.crt", d / f"{name}.key"
