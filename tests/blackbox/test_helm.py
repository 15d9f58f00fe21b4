"""deploy/helm/logship: the chart lints with `helm lint --strict` and renders
with `helm template` for the default values and each ci/ values file; the
rendered DaemonSet passes the kustomize test's checks and matches the
kustomize manifests for the same settings; logship accepts every rendered
setting; the values schema refuses unknown keys and wrong types.

Helm comes from tests/helm/build_helm.sh (LOGSHIP_HELM, exported by
scripts/test.sh). Without it the tests fail under CI=true and skip locally."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN
from test_deploy import DEPLOY, KUBECTL, by_kind, check_node_agent, render

CHART = DEPLOY / "helm" / "logship"
CI = CHART / "ci"
MONITORING = DEPLOY / "monitoring"
# Values files and the kustomize directory with the same settings (None: the
# chart only).
CASES = {
    "default": (None, "base"),
    "kafka": (CI / "kafka-values.yaml", "overlays/kafka"),
    "otlp": (CI / "otlp-values.yaml", "overlays/otlp"),
    "secrets": (CI / "secrets-values.yaml", None),
    "sidecar": (CI / "sidecar-values.yaml", None),
}
# Labels and annotations the chart adds to what kustomize renders.
CHART_LABELS = {"app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
                "helm.sh/chart"}
CHART_ANNOTATIONS = {"checksum/config"}


def _helm_path():
    path = os.environ.get("LOGSHIP_HELM") or shutil.which("helm")
    return path if path and pathlib.Path(path).is_file() else None


@pytest.fixture(scope="module")
def helm():
    path = _helm_path()
    if path is None:
        msg = "Helm not found: set LOGSHIP_HELM (scripts/test.sh builds it with tests/helm/build_helm.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def helm_run(helm, *args):
    return subprocess.run([helm, *args], capture_output=True, text=True, timeout=120)


def template(helm, values=None, *extra):
    """The chart's documents, rendered as release "logship" in namespace
    "logging" (the kustomize base's names)."""
    args = ["template", "logship", str(CHART), "--namespace", "logging"]
    if values:
        args += ["-f", str(values)]
    r = helm_run(helm, *args, *extra)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def check_config(env):
    """logship --check-config with exactly these settings: exit 0, or the
    setting it refuses."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("LOGSHIP_")}
    # What Kubernetes gives every pod: LOGSHIP_K8S_API=true checks for it.
    full.update(KUBERNETES_SERVICE_HOST="10.96.0.1", KUBERNETES_SERVICE_PORT="443")
    full.update(env)
    r = subprocess.run([str(BIN), "--check-config"], env=full, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def literal_env(container):
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lint_strict(helm, case):
    values, _ = CASES[case]
    r = helm_run(helm, "lint", "--strict", str(CHART), *(["-f", str(values)] if values else []))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("case", ["default", "kafka", "otlp", "secrets"])
def test_daemonset_is_a_complete_node_agent(helm, case):
    docs = template(helm, CASES[case][0])
    check_node_agent(docs, check_keys=False)
    # Instead of matching key names against --help: logship itself accepts
    # the ConfigMap plus the container's literal env (it exits 2 on any
    # unknown key or bad value).
    cm = by_kind(docs, "ConfigMap")[0]["data"]
    container = by_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]
    env = dict(cm, **{k: v for k, v in literal_env(container).items() if k.startswith("LOGSHIP_")})
    check_config(dict(env, LOGSHIP_NODE_NAME="node-1"))
    # The envFrom names the rendered ConfigMap; the mounted Secret is the one
    # rendered or the operator's own.
    assert container["envFrom"] == [{"configMapRef": {"name": by_kind(docs, "ConfigMap")[0]["metadata"]["name"]}}]
    volumes = {v["name"]: v for v in by_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]["volumes"]}
    secret_name = volumes["sink-secret"]["secret"]["secretName"]
    created = [s["metadata"]["name"] for s in by_kind(docs, "Secret")]
    assert created == [secret_name]
    # Every *_FILE setting points into the mounted Secret.
    mount = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}["sink-secret"]
    for key, value in cm.items():
        if key.endswith("_FILE"):
            assert value.startswith(mount + "/"), (key, value)


def test_existing_secret_is_mounted_and_none_created(helm):
    docs = template(helm, CASES["secrets"][0], "--set", "secret.existingSecret=kafka-credentials")
    assert not by_kind(docs, "Secret")
    pod = by_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["sink-secret"]["secret"]["secretName"] == "kafka-credentials"
    cm = by_kind(docs, "ConfigMap")[0]["data"]
    assert cm["LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE"] == "/etc/logship/secret/kafka-password"
    assert "not-a-real-password" not in json.dumps(docs)


def normalise(doc):
    """A rendered object without the labels and annotations the chart adds."""
    doc = json.loads(json.dumps(doc))  # deep copy
    for meta in (doc["metadata"], doc.get("spec", {}).get("template", {}).get("metadata", {})):
        labels = {k: v for k, v in meta.get("labels", {}).items() if k not in CHART_LABELS}
        annotations = {k: v for k, v in meta.get("annotations", {}).items() if k not in CHART_ANNOTATIONS}
        meta.pop("labels", None)
        meta.pop("annotations", None)
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
    selector = doc.get("spec", {}).get("selector", {}).get("matchLabels")
    if selector is not None:
        doc["spec"]["selector"]["matchLabels"] = {k: v for k, v in selector.items() if k not in CHART_LABELS}
    return doc


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed (scripts/install_deps.sh --test installs it)")
@pytest.mark.parametrize("case", ["default", "kafka", "otlp"])
def test_chart_renders_the_kustomize_daemonset(helm, case):
    values, kustomize_dir = CASES[case]
    chart = template(helm, values)
    kust = render(DEPLOY / "kustomize" / kustomize_dir)
    for kind in ("DaemonSet", "ConfigMap", "ClusterRole", "ClusterRoleBinding", "ServiceAccount"):
        assert normalise(by_kind(chart, kind)[0]) == normalise(by_kind(kust, kind)[0]), kind
    # The selector the chart adds to still selects its pods.
    ds = by_kind(chart, "DaemonSet")[0]
    selector = ds["spec"]["selector"]["matchLabels"]
    assert selector.items() <= ds["spec"]["template"]["metadata"]["labels"].items()


def test_sidecar_snippet(helm):
    docs = template(helm, CASES["sidecar"][0])
    assert not by_kind(docs, "DaemonSet") and not by_kind(docs, "ClusterRole")
    cm = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"] == "logship-sidecar"][0]["data"]
    ship = yaml.safe_load(cm["container.yaml"])
    volumes = {v["name"]: v for v in yaml.safe_load(cm["volumes.yaml"])}
    env = {e["name"]: e for e in ship["env"]}
    assert env["LOGSHIP_RELEASE"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.labels['app.kubernetes.io/version']"
    mounts = {m["name"]: m for m in ship["volumeMounts"]}
    # The shared log volume is an emptyDir, mounted read-only, and the inputs
    # are under it; the state directory is mounted.
    logs = mounts["app-logs"]
    assert "emptyDir" in volumes["app-logs"] and logs["readOnly"] is True
    assert env["LOGSHIP_INPUT_PATHS"]["value"].startswith(logs["mountPath"] + "/")
    assert mounts["logship-state"]["mountPath"] == env["LOGSHIP_STATE_DIR"]["value"]
    assert set(mounts) <= set(volumes)
    port = {p["name"]: p["containerPort"] for p in ship["ports"]}["http-metrics"]
    assert env["LOGSHIP_LISTEN"]["value"].endswith(f":{port}")
    assert ship["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert ship["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert ship["securityContext"]["runAsNonRoot"] is True
    assert "LOGSHIP_K8S_API" not in env
    check_config(dict(literal_env(ship), LOGSHIP_RELEASE="1.4.2"))


def test_monitoring_objects(helm):
    docs = template(helm, CASES["kafka"][0], "--set", "metrics.dashboard.enabled=true")
    service = [d for d in by_kind(docs, "Service")][0]
    monitor = by_kind(docs, "ServiceMonitor")[0]
    pod = by_kind(docs, "DaemonSet")[0]["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
    assert monitor["spec"]["endpoints"][0]["port"] in ports
    assert {p["name"] for p in service["spec"]["ports"]} == {monitor["spec"]["endpoints"][0]["port"]}
    # The dashboard aggregates by `node`, which the ServiceMonitor adds.
    assert {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"} in \
        monitor["spec"]["endpoints"][0]["relabelings"]
    assert 'label_values(logship_records_read_total, node)' in (MONITORING / "dashboard.json").read_text()
    # The PrometheusRule and the dashboard are deploy/monitoring's files.
    rule = by_kind(docs, "PrometheusRule")[0]
    assert rule["spec"] == yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    dash = [d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")][0]
    assert json.loads(dash["data"]["logship.json"]) == json.loads((MONITORING / "dashboard.json").read_text())


@pytest.mark.parametrize("args, expected", [
    (["--set", "sink.kafka.bogus=1"], "bogus"),
    (["--set", "imageTag=1.0"], "imageTag"),
    (["--set", "config.extra.NOT_LOGSHIP=1"], "NOT_LOGSHIP"),
])
def test_schema_rejects_unknown_keys(helm, args, expected):
    r = helm_run(helm, "template", "logship", str(CHART), *args)
    assert r.returncode != 0 and "schema" in r.stderr and expected in r.stderr, r.stderr


@pytest.mark.parametrize("args, expected", [
    (["--set-string", "metrics.port=http"], "metrics/port"),
    (["--set", "daemonset.enabled=maybe"], "daemonset/enabled"),
    (["--set", "sink.kind=fluentd"], "sink/kind"),
    (["--set", "tolerations.operator=Exists"], "tolerations"),
])
def test_schema_rejects_bad_types(helm, args, expected):
    r = helm_run(helm, "template", "logship", str(CHART), *args)
    assert r.returncode != 0 and "schema" in r.stderr and expected in r.stderr, r.stderr


def test_sink_settings_are_required(helm):
    r = helm_run(helm, "template", "logship", str(CHART), "--set", "sink.kind=kafka")
    assert r.returncode != 0 and "sink.kafka.brokers" in r.stderr, r.stderr
    r = helm_run(helm, "template", "logship", str(CHART), "--set", "sink.kind=http")
    assert r.returncode != 0 and "sink.http.url" in r.stderr, r.stderr
