"""deploy/: the manifests render with `kubectl kustomize` and the DaemonSet
has what a node agent needs; the image's runtime stage installs a package
for every shared library the binary links."""

import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT

DEPLOY = ROOT / "deploy"
KUBECTL = shutil.which("kubectl")


def render(path):
    r = subprocess.run([KUBECTL, "kustomize", str(path)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed (scripts/install_deps.sh --test installs it)")
@pytest.mark.parametrize("overlay", ["base", "overlays/kafka", "overlays/otlp"])
def test_manifests_render_and_daemonset_is_complete(overlay):
    docs = render(DEPLOY / "kustomize" / overlay)
    check_node_agent(docs, check_keys=overlay == "base")


def check_node_agent(docs, check_keys=True):
    """What a node agent's manifests need; also run on the Helm chart's
    rendering (test_helm.py). `check_keys`: every ConfigMap key is one
    `logship --help` lists."""
    ds = by_kind(docs, "DaemonSet")[0]
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # /var/log from the host, read-only; state on a hostPath.
    assert volumes["varlog"]["hostPath"]["path"] == "/var/log"
    assert mounts["varlog"]["mountPath"] == "/var/log" and mounts["varlog"]["readOnly"] is True
    assert volumes["state"]["hostPath"]["path"] == "/var/lib/logship"
    env = {e["name"]: e for e in c.get("env", [])}
    assert env["LOGSHIP_STATE_DIR"]["value"] == mounts["state"]["mountPath"]
    # The node name from the downward API, for the pod list and watch.
    assert env["LOGSHIP_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["LOGSHIP_K8S_API"]["value"] == "true"
    # Probes on the listen port.
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    port = {p["name"]: p["containerPort"] for p in c["ports"]}["http-metrics"]
    assert env["LOGSHIP_LISTEN"]["value"].endswith(f":{port}")
    # Grace period above the shutdown timeout, so a drain is not cut short.
    cm = by_kind(docs, "ConfigMap")[0]["data"]
    assert pod["terminationGracePeriodSeconds"] * 1000 > int(cm["LOGSHIP_SHUTDOWN_TIMEOUT_MS"])
    # Resources: a memory limit above LOGSHIP_MEMORY_LIMIT (+ fixed overhead).
    limit = c["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and int(limit[:-2]) >= int(cm["LOGSHIP_MEMORY_LIMIT"].removesuffix("MiB")) + 16
    assert "cpu" in c["resources"]["requests"] and "memory" in c["resources"]["requests"]
    # Runs on every node.
    assert {"operator": "Exists"} in pod["tolerations"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    # RBAC: read-only access to pods for the service account it runs as.
    role = by_kind(docs, "ClusterRole")[0]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    binding = by_kind(docs, "ClusterRoleBinding")[0]
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    assert by_kind(docs, "Secret") and by_kind(docs, "ServiceAccount")
    # Every configured key is one logship knows (it would refuse to start otherwise).
    known = subprocess.run([str(BIN), "--help"], capture_output=True).stdout.decode()
    if check_keys:
        for key in cm:
            assert key in known, key


def test_sidecar_example_takes_release_from_downward_api():
    pod = yaml.safe_load((DEPLOY / "examples" / "sidecar.yaml").read_text())
    ship = [c for c in pod["spec"]["containers"] if c["name"] == "logship"][0]
    env = {e["name"]: e for e in ship["env"]}
    assert env["LOGSHIP_RELEASE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['app.kubernetes.io/version']"
    app = [c for c in pod["spec"]["containers"] if c["name"] == "app"][0]
    shared = {m["name"] for m in app["volumeMounts"]} & {m["name"] for m in ship["volumeMounts"]}
    assert any(v["name"] in shared and "emptyDir" in v for v in pod["spec"]["volumes"])


def runtime_packages():
    text = (DEPLOY / "Dockerfile").read_text()
    runtime = text.split("AS runtime", 1)[1]
    install = re.search(r"apt-get install[^\n]*\\\n(.*?)&&", runtime, re.S).group(1)
    return set(install.replace("\\", " ").split()) - {"-y", "--no-install-recommends"}


def test_runtime_stage_covers_every_linked_library():
    """The Dockerfile cannot be built here (no container engine): check that
    each library `ldd build/logship` resolves comes from a package the
    runtime stage installs (libc6 is in every Debian image)."""
    out = subprocess.run(["ldd", str(BIN)], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=> (\S+) \(", out)
    assert libs, out
    wanted = runtime_packages()
    for lib in libs:
        # usrmerge: a package may list /lib/... or /usr/lib/..., and the
        # name may be a symlink to the versioned file.
        candidates = [lib, "/usr" + lib, pathlib.Path(lib).resolve().as_posix()]
        for path in candidates:
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if owner.returncode == 0:
                break
        assert owner.returncode == 0, f"no package owns {lib}"
        pkg = owner.stdout.split(":")[0]
        if pkg.startswith(("libasan", "libubsan")):
            continue  # the sanitizer build's runtime, not part of the product
        assert pkg == "libc6" or pkg in wanted, f"{lib} comes from {pkg}, missing in the runtime stage"
