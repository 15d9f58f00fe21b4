"""Every component's keys are checked before anything starts, whichever sink
is chosen, so --check-config catches what a run would reject (exit 2, the key
and the reason; never an internal value)."""

from conftest import clean_env, run_logship


def without_k8s(**extra):
    """clean_env() without the in-cluster variables of the machine, plus `extra`."""
    env = clean_env()
    env.pop("KUBERNETES_SERVICE_HOST", None)
    env.pop("KUBERNETES_SERVICE_PORT", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_unused_sink_key_is_validated_at_start_and_in_check_config(tmp_path):
    # Issue 12: LOGSHIP_HTTP_CONCURRENCY=banana with LOGSHIP_SINK=stdout.
    env = clean_env(LOGSHIP_SINK="stdout", LOGSHIP_HTTP_CONCURRENCY="banana",
                    LOGSHIP_INPUT_PATHS=f"{tmp_path}/*.log", LOGSHIP_STATE_DIR=tmp_path / "s",
                    LOGSHIP_LISTEN="off")
    for args in (["--check-config"], ["--oneshot"]):
        r = run_logship(env, *args)
        out = r.stdout.decode() + r.stderr.decode()
        assert r.returncode == 2, (args, out)
        assert "LOGSHIP_HTTP_CONCURRENCY: expected adaptive or a decimal number between 1 and 256" in out
        assert "4294967295" not in out
        assert r.stdout == b""
    assert not (tmp_path / "s").exists()  # nothing started


def test_valid_unused_sink_key_renders_canonically():
    r = run_logship(clean_env(LOGSHIP_HTTP_CONCURRENCY="12"), "--check-config")
    assert r.returncode == 0, r.stderr
    assert "LOGSHIP_HTTP_CONCURRENCY=12\n" in r.stdout.decode()


def test_stdin_with_globs_is_rejected_by_check_config():
    r = run_logship(clean_env(LOGSHIP_INPUT_PATHS="-,/var/log/*.log"), "--check-config")
    assert r.returncode == 2
    assert b"LOGSHIP_INPUT_PATHS: - (standard input) cannot be combined with file globs" in r.stderr
    assert r.stdout == b""


def test_in_cluster_settings_are_checked_by_check_config():
    r = run_logship(without_k8s(LOGSHIP_K8S_API="true", LOGSHIP_NODE_NAME="n1"), "--check-config")
    assert r.returncode == 2
    assert b"LOGSHIP_K8S_API=true but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)" in r.stderr
    r = run_logship(without_k8s(LOGSHIP_K8S_API="true", LOGSHIP_NODE_NAME="n1",
                                KUBERNETES_SERVICE_HOST="10.0.0.1", KUBERNETES_SERVICE_PORT="https"),
                    "--check-config")
    assert r.returncode == 2
    assert b'logship: KUBERNETES_SERVICE_PORT: "https" is not a port\n' in r.stderr
    r = run_logship(without_k8s(LOGSHIP_K8S_API="true", LOGSHIP_NODE_NAME="n1",
                                KUBERNETES_SERVICE_HOST="10.0.0.1", KUBERNETES_SERVICE_PORT="6443"),
                    "--check-config")
    assert r.returncode == 0, r.stderr
    assert "LOGSHIP_K8S_API=true\n" in r.stdout.decode()
