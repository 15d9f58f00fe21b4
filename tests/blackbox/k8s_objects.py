"""Objects shaped like the Kubernetes API's (Pod, Status) and the test CA,
for the fake API server (k8s_api_server.py) and the tests that build pods."""

import os
import subprocess
import time
import uuid


# ---------------------------------------------------------------------------
# Objects shaped like the API's.


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_object(code, reason, message):
    """A Status object (metav1.Status), as the API sends for errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _container(name, image):
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
        "volumeMounts": [
            {
                "name": "kube-api-access-x7k2p",
                "readOnly": True,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            }
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def _container_status(name, image, image_id, started):
    return {
        "name": name,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
        "ready": True,
        "restartCount": 0,
        "image": image,
        "imageID": image_id,
        "containerID": "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex,
        "started": True,
    }


def make_pod(name, namespace="default", node="node-1", labels=None, annotations=None,
             containers=None, init_containers=None, ephemeral_containers=None,
             uid=None, image_ids=None, phase="Running"):
    """A Pod as `GET /api/v1/namespaces/<ns>/pods/<name>` returns it for a
    Deployment's replica: metadata (with ownerReferences and managedFields),
    spec (volumes, containers, tolerations, …) and status (conditions,
    containerStatuses). `containers` etc. are lists of (name, image);
    `image_ids` maps container names to status imageIDs (default: none,
    as for a container whose image is still being pulled)."""
    containers = containers or [("app", "registry.example.com:5000/shop/" + name.split("-")[0] + ":1.0.0")]
    image_ids = image_ids or {}
    started = _now()
    owner = name.rsplit("-", 1)[0] if "-" in name else name
    spec = {
        "volumes": [
            {
                "name": "kube-api-access-x7k2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                    ],
                    "defaultMode": 420,
                },
            }
        ],
        "containers": [_container(n, i) for n, i in containers],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "nodeName": node,
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if init_containers:
        spec["initContainers"] = [_container(n, i) for n, i in init_containers]
    if ephemeral_containers:
        spec["ephemeralContainers"] = [
            {"name": n, "image": i, "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
             "stdin": True, "tty": True}
            for n, i in ephemeral_containers
        ]
    status = {
        "phase": phase,
        "conditions": [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "hostIP": "10.0.0.11",
        "podIP": "10.244.1.23",
        "podIPs": [{"ip": "10.244.1.23"}],
        "startTime": started,
        "containerStatuses": [
            _container_status(n, i, image_ids.get(n, ""), started) for n, i in containers
        ],
        "qosClass": "Burstable",
    }
    if init_containers:
        status["initContainerStatuses"] = [
            dict(_container_status(n, i, image_ids.get(n, ""), started),
                 state={"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started,
                                       "containerID": "containerd://" + uuid.uuid4().hex}},
                 ready=True, started=False)
            for n, i in init_containers
        ]
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": owner + "-",
            "namespace": namespace,
            "uid": uid or str(uuid.uuid4()),
            "resourceVersion": "0",
            "creationTimestamp": started,
            "labels": dict(labels or {}),
            "annotations": dict(annotations or {}),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": str(uuid.uuid4()),
                 "controller": True, "blockOwnerDeletion": True}
            ],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": started,
                 "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}}},
                              "f:spec": {"f:containers": {}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": started,
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {}}}, "subresource": "status"},
            ],
        },
        "spec": spec,
        "status": status,
    }


def pod_from_args(args, node):
    """make_pod() from a control command's JSON arguments."""
    def pairs(key):
        return [tuple(p) for p in args[key]] if args.get(key) else None
    return make_pod(
        args["name"], args.get("namespace", "default"), args.get("node", node),
        labels=args.get("labels"), annotations=args.get("annotations"),
        containers=pairs("containers"), init_containers=pairs("init_containers"),
        ephemeral_containers=pairs("ephemeral_containers"), uid=args.get("uid"),
        image_ids=args.get("image_ids"), phase=args.get("phase", "Running"))


def pod_key(pod):
    return (pod["metadata"]["namespace"], pod["metadata"]["name"])


# ---------------------------------------------------------------------------
# Certificates.


def make_certs(directory, sans="IP:127.0.0.1,DNS:localhost", prefix=""):
    """A CA and a server certificate it signs (EC P-256, valid 2 days).
    Returns (ca_file, cert_file, key_file)."""
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, prefix + name)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*cmd):
        subprocess.run(["openssl", *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2",
        "-subj", "/CN=logship-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=kube-apiserver")
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" % sans)
    run("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
        "-CAcreateserial", "-out", p("server.crt"), "-days", "2", "-extfile", p("server.ext"))
    return p("ca.crt"), p("server.crt"), p("server.key")
