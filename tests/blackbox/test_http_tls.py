"""The HTTP sink over TLS with a self-signed CA made here by the openssl CLI:
verification against LOGSHIP_HTTP_CA_FILE (IP and DNS names), a clear error
for a wrong CA or name, mutual TLS, the explicit insecure mode, and the
configuration errors around it (secrets never printed)."""

import ssl

import pytest

from conftest import run_logship
from http_helpers import check_exactly_once, http_env, make_ca, make_cert, make_inputs
from http_receiver import Receiver


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    make_cert(d, "ca", "server", san="IP:127.0.0.1,DNS:localhost")
    make_cert(d, "ca", "wrong-name", san="DNS:elsewhere.example")
    make_cert(d, "ca", "client", san="DNS:logship-agent", client=True)
    return d


def server_ctx(pki, cert="server", require_client=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / f"{cert}.crt", pki / f"{cert}.key")
    if require_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki / "ca.crt")
    return ctx


@pytest.fixture
def tls_receiver():
    made = []

    def make(ctx):
        rx = Receiver("ndjson", tls=ctx).start()
        made.append(rx)
        return rx

    yield make
    for rx in made:
        rx.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_with_ca_file(tmp_path, pki, tls_receiver, host):
    rx = tls_receiver(server_ctx(pki))
    inputs, counts = make_inputs(tmp_path, lines=40)
    env = http_env(tmp_path, inputs, f"https://{host}:{rx.port}/ingest", LOGSHIP_HTTP_CA_FILE=pki / "ca.crt",
                   LOGSHIP_COMPRESSION="zstd", LOGSHIP_HTTP_CONCURRENCY="1")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    assert rx.violations == []
    check_exactly_once(rx.records(), counts)
    # One keep-alive connection carried every request.
    assert rx.connections == 1 and len(rx.requests()) > 3


@pytest.mark.parametrize("cert,ca,reason", [
    ("server", "other-ca", "certificate verify failed"),
    ("wrong-name", "ca", "certificate verify failed: hostname mismatch"),
])
def test_wrong_ca_or_name_fails_clearly(tmp_path, pki, tls_receiver, cert, ca, reason):
    rx = tls_receiver(server_ctx(pki, cert=cert))
    inputs, _ = make_inputs(tmp_path, lines=5)
    env = http_env(tmp_path, inputs, f"https://localhost:{rx.port}", LOGSHIP_HTTP_CA_FILE=pki / f"{ca}.crt")
    r = run_logship(env, "--oneshot", timeout=120)
    stderr = r.stderr.decode()
    assert r.returncode == 1
    assert reason in stderr, stderr[-2000:]
    assert "CA file" in stderr
    assert rx.records() == []


def test_mutual_tls(tmp_path, pki, tls_receiver):
    rx = tls_receiver(server_ctx(pki, require_client=True))
    inputs, counts = make_inputs(tmp_path, lines=20)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_CA_FILE=pki / "ca.crt",
                   LOGSHIP_HTTP_CERT_FILE=pki / "client.crt", LOGSHIP_HTTP_KEY_FILE=pki / "client.key")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 0, r.stderr.decode()
    check_exactly_once(rx.records(), counts, ordered=False)

    # Without the client certificate the server refuses the handshake.
    rx2 = tls_receiver(server_ctx(pki, require_client=True))
    env2 = http_env(tmp_path / "again", inputs, rx2.url, LOGSHIP_HTTP_CA_FILE=pki / "ca.crt")
    r2 = run_logship(env2, "--oneshot", timeout=120)
    assert r2.returncode == 1
    assert rx2.records() == []


def test_insecure_is_explicit_and_warned(tmp_path, pki, tls_receiver):
    rx = tls_receiver(server_ctx(pki, cert="wrong-name"))
    inputs, counts = make_inputs(tmp_path, lines=10)
    env = http_env(tmp_path, inputs, rx.url, LOGSHIP_HTTP_TLS_INSECURE="true")
    r = run_logship(env, "--oneshot")
    stderr = r.stderr.decode()
    assert r.returncode == 0, stderr
    assert "NOT verified" in stderr and '"level":"warn"' in stderr
    check_exactly_once(rx.records(), counts, ordered=False)


def test_config_errors_and_secrets(tmp_path, pki):
    inputs = str(tmp_path / "*.log")
    secret = tmp_path / "token"
    secret.write_text("tok-SECRET-123")

    def run(**kw):
        env = http_env(tmp_path, inputs, kw.pop("url", "https://logs.example:8443"), **kw)
        return run_logship(env, "--check-config")

    r = run(LOGSHIP_HTTP_TOKEN_FILE=secret, LOGSHIP_HTTP_HEADERS="X-Api-Key=hdr-SECRET-456")
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    assert "SECRET" not in out
    assert f"LOGSHIP_HTTP_TOKEN_FILE={secret}" in out
    assert "LOGSHIP_HTTP_HEADERS=<redacted>" in out
    assert "LOGSHIP_COMPRESSION=gzip" in out  # the http sink's default
    assert "LOGSHIP_HTTP_CONCURRENCY=adaptive" in out

    for kw, needle in [
        (dict(url="ftp://x"), "LOGSHIP_HTTP_URL"),
        (dict(url="http://host:0"), "port"),
        (dict(LOGSHIP_COMPRESSION="lz4"), "not supported by the http sink"),
        (dict(LOGSHIP_HTTP_CONCURRENCY="many"), "LOGSHIP_HTTP_CONCURRENCY"),
        (dict(LOGSHIP_HTTP_USER="u"), "LOGSHIP_HTTP_PASSWORD_FILE"),
        (dict(LOGSHIP_HTTP_CERT_FILE=pki / "client.crt"), "LOGSHIP_HTTP_KEY_FILE"),
        (dict(url="http://plain:80", LOGSHIP_HTTP_CA_FILE=pki / "ca.crt"), "https://"),
        (dict(LOGSHIP_HTTP_HEADERS="bad header=hdr-SECRET-456"), "LOGSHIP_HTTP_HEADERS"),
    ]:
        r = run(**kw)
        err = r.stderr.decode() + r.stdout.decode()
        assert r.returncode == 2, (kw, err)
        assert needle in err, (kw, err)
        assert "SECRET" not in err

    # Problems only the sink sees (files) also stop it at start, with exit 2.
    env = http_env(tmp_path, inputs, "https://127.0.0.1:1", LOGSHIP_HTTP_TOKEN_FILE=tmp_path / "missing")
    r = run_logship(env, "--oneshot")
    assert r.returncode == 2 and "LOGSHIP_HTTP_TOKEN_FILE" in r.stderr.decode()
    env = http_env(tmp_path, inputs, "https://127.0.0.1:1", LOGSHIP_HTTP_CA_FILE=secret)
    r = run_logship(env, "--oneshot")
    assert r.returncode == 2 and "LOGSHIP_HTTP_CA_FILE" in r.stderr.decode()
    assert "SECRET" not in r.stderr.decode()
    assert not (tmp_path / "missing").exists()

    # SINK=http without a URL.
    r = run_logship(http_env(tmp_path, inputs, ""), "--check-config")
    assert r.returncode == 2 and "LOGSHIP_HTTP_URL" in r.stderr.decode()
