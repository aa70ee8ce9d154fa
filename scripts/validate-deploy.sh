#!/usr/bin/env bash
# Validates the Kubernetes manifests in deploy/ without a cluster.
#
#   scripts/validate-deploy.sh
#
# Every overlay under deploy/overlays/ is rendered with `kubectl kustomize`, then:
# - validated against the Kubernetes schemas (`kubernetes-validate --strict`: unknown fields
#   are errors) of the oldest and the newest Kubernetes version we support (1.29, 1.34);
# - checked for what an operator relies on: each Deployment has /readyz readiness and /healthz
#   liveness probes on its serving port, requests and limits on every container, a non-root
#   read-only security context, the migrate init container on the same image, a rolling
#   update that keeps capacity, a grace period longer than the drain; a PodDisruptionBudget,
#   a HorizontalPodAutoscaler (at least 2 replicas) and a Service that select exactly its
#   pods; configuration from the generated ConfigMap (no secrets in it, every key a
#   documented setting) and the Secret `flotilla` (every key of deploy/secret.env.example
#   documented); the Ingress's backends exist; every service (FLOTILLA_SERVICES) runs in
#   exactly one Deployment; and the Ingress sends every operation of openapi/openapi.json
#   (by its x-flotilla-service) and every page to a Deployment that runs its service,
#   matching paths as ingress-nginx does.
#
# deploy/agent, the in-cluster agent's base (not an overlay: each member cluster applies it), is
# rendered and validated the same way, then checked on its own: everything not cluster-scoped
# in the namespace admiralty; no Secret rendered (the registration token is created by the
# user); the ConfigMap generated from agent.env holds exactly its settings (FLOTILLA_URL,
# FLOTILLA_ACCOUNT, FLOTILLA_CLUSTER required; others only if services/agent declares them;
# nothing secret); the Deployment has 2 replicas spread over nodes and a PodDisruptionBudget,
# runs the flotilla-agent image's entrypoint, reads that ConfigMap, gets
# POD_NAME/POD_NAMESPACE/POD_UID from the downward API and FLOTILLA_LOG_FORMAT=json, mounts the
# Secret flotilla-registration-token as an optional read-only volume with
# FLOTILLA_REGISTRATION_TOKEN_FILE pointing at its key, has /readyz readiness and /healthz
# liveness probes on the port named http-metrics (the port of FLOTILLA_AGENT_LISTEN), cpu and
# memory requests and a memory limit, and a non-root, read-only, no-escalation, no-capability,
# RuntimeDefault-seccomp security context; and the RBAC is exactly what the agent needs:
# cluster-wide get/list/watch on ingresses, services, endpointslices and nodes, create/patch on
# events.k8s.io events, get/list/watch on kubeconfigs and trustedidentityproviders
# (multicluster.admiralty.io) and patch on their status, get/create/patch/delete on secrets and
# get/create/patch on configmaps; in admiralty get on its identity CA Secret by name, create on
# secrets, get/patch on the Lease flotilla-agent and create on leases. Any wildcard, any other
# grant (a list or watch of Secrets anywhere, a write elsewhere, a grant made twice, CRDs) is an
# error, and every Role and ClusterRole is bound to the Deployment's ServiceAccount alone.
#
# Its CustomResourceDefinitions (crds.yaml: Admiralty's Kubeconfig and
# TrustedIdentityProvider) are checked as rendered: group multicluster.admiralty.io, the
# contract's names, namespaced, no short names, one version v1alpha1 served and stored, the
# status subresource, the printer columns Resolved/Cluster/Reason/Age; a structural schema (a
# type on every node, no keyword Kubernetes refuses, a description on every field) whose spec
# keeps unknown fields and whose spec and status have exactly the contract's fields and types,
# conditions being metav1.Condition. Then each object's spec and status is validated with
# jsonschema against its CRD's schema, as the API server would with strict field validation
# (kubectl's default): the two documents of Admiralty's tutorial (examples/tutorial.yaml) and
# the objects with the full status the agent writes (examples/resolved.yaml) must pass; a
# few broken variants of them must be refused, so the check is seen to fail.
#
# deploy/monitoring (a kustomize Component for the overlays) is checked last: promtool (Debian's
# prometheus package, installed with apt-get when run as root) checks rules.yaml and runs its
# unit tests (rules_test.yaml, where every alert must be seen firing); prometheusrule.yaml must be what rules.yaml generates
# (`scripts/validate-deploy.sh --write-rules` rewrites it); dashboard.json must be a dashboard
# whose every panel queries Prometheus through the ${datasource} variable; and the single
# overlay with the component must render, its PodMonitor selecting the Deployment's pods on a
# port they declare, the PrometheusRule carrying the rules, the dashboard's ConfigMap labelled
# for Grafana's sidecar. (services/server/tests/server/monitoring.rs evaluates every rule and
# dashboard query against a live scrape.)
#
# kubernetes-validate (PyPI, pinned by hash) is installed once into a virtualenv under
# ${XDG_CACHE_HOME:-~/.cache}/flotilla-ci; kubectl comes from the system (Debian's
# kubernetes-client, installed with apt-get when run as root). Prints `deploy: ok`, or one
# `deploy: error: ...` line per problem and exits 1.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
monitoring=$repo/deploy/monitoring

# The Prometheus Operator's form of rules.yaml.
prometheus_rule() {
  printf '%s\n' \
    "# Generated from rules.yaml by scripts/validate-deploy.sh --write-rules: edit rules.yaml." \
    "apiVersion: monitoring.coreos.com/v1" \
    "kind: PrometheusRule" \
    "metadata:" \
    "  name: flotilla" \
    "spec:"
  grep -v '^#' "$monitoring/rules.yaml" | sed -e 's/^\(.\)/  \1/'
}
if [ "${1:-}" = "--write-rules" ]; then
  prometheus_rule >"$monitoring/prometheusrule.yaml"
  echo "deploy: wrote deploy/monitoring/prometheusrule.yaml"
  exit 0
fi

die() {
  echo "deploy: error: $*" >&2
  exit 1
}

if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "deploy: installing kubectl (kubernetes-client)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      kubernetes-client >/dev/null
  fi
  command -v kubectl >/dev/null || die "needs kubectl (apt-get install kubernetes-client)"
fi

# --- kubernetes-validate ---------------------------------------------------------------------

# shellcheck source=scripts/pinned-venv.sh
. "$repo/scripts/pinned-venv.sh"
# kubernetes-validate and its dependencies; the compiled ones (PyYAML, rpds-py) for CPython
# 3.11 on x86_64 Linux.
requirements='kubernetes-validate==1.37.0 --hash=sha256:85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
attrs==26.1.0 --hash=sha256:c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309
importlib_resources==7.1.0 --hash=sha256:1bd7b48b4088eddb2cd16382150bb515af0bd2c70128194392725f82ad2c96a1
jsonschema==4.26.0 --hash=sha256:d489f15263b8d200f8387e64b4c3a75f06629559fb73deb8fdfb525f2dab50ce
jsonschema-specifications==2025.9.1 --hash=sha256:98802fee3a11ee76ecaca44429fda8a41bff98b00a0f2838151b113f210cc6fe
packaging==26.3 --hash=sha256:d7193f7c8e4e93f444fde0262bf90af30e16fa0ad0ad44cb553c87339b23cd1c
PyYAML==6.0.3 --hash=sha256:b8bb0864c5a28024fac8a632c443c87c5aa6f215c0b126c449ae1a150412f31d
referencing==0.37.0 --hash=sha256:381329a9f99628c9069361716891d34ad94af76e461dcb0335825aecc7692231
rpds-py==2026.9.1 --hash=sha256:136a1c3fe4402b7008bc81cb62ee538481795b61a7e83df88dff3b3f02b726ff
typing_extensions==4.16.0 --hash=sha256:481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8
'

# The check is evaluated by pinned_venv, once it has set $venv.
# shellcheck disable=SC2016
pinned_venv deploy-venv deploy "$requirements" '[ -x "$venv/bin/kubernetes-validate" ]'

# --- render and validate every overlay, and the agent's base ---------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { # DIR FILE: kubectl kustomize DIR > FILE, validated against both versions
  local dir=${1%/} file=$2 rel result version
  rel=${dir#"$repo"/}
  kubectl kustomize "$dir" >"$file" 2>"$file.err" ||
    die "kubectl kustomize $rel failed: $(cat "$file.err")"
  for version in 1.29.0 1.34.0; do
    if ! result=$("$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$file" 2>&1); then
      printf '%s\n' "$result" >&2
      die "$rel does not validate against Kubernetes $version (above)"
    fi
  done
}

overlays=()
for dir in "$repo"/deploy/overlays/*/; do
  name=$(basename "$dir")
  overlays+=("$name")
  render "$dir" "$work/$name.yaml"
done
[ ${#overlays[@]} -ge 2 ] || die "expected at least two overlays (single, split) under deploy/overlays"
# deploy/agent is a base of its own (applied in each member cluster), not an overlay of the
# server: it is checked by the second program below, not by the overlays' checks.
[ -f "$repo/deploy/agent/kustomization.yaml" ] || die "deploy/agent/kustomization.yaml is missing"
mkdir -p "$work/agent"
render "$repo/deploy/agent" "$work/agent/rendered.yaml"

failed=0
"$venv/bin/python" - "$repo" "$work" "${overlays[@]}" <<'PY' || failed=1
import json
import os
import re
import sys

import yaml

repo, work, overlays = sys.argv[1], sys.argv[2], sys.argv[3:]
errors = []
ALL = {"accounts", "clusters", "directory", "dns"}


def error(message):
    errors.append(message)


def documented():
    names = set()
    with open(os.path.join(repo, ".env.example"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)[=:]", line)
            if m:
                names.add(m.group(1))
    return names


DOCUMENTED = documented()
SECRET_LIKE = re.compile(r"(SECRET|PASSWORD|_KEY$|^DATABASE_URL$)")

with open(os.path.join(repo, "deploy/secret.env.example"), encoding="utf-8") as f:
    secret_keys = {m.group(1) for m in (re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", l) for l in f) if m}
for key in sorted(secret_keys - DOCUMENTED):
    error(f"deploy/secret.env.example: {key} is not a setting documented in .env.example")

# Sample requests: every operation of the document, with its service, and the pages.
with open(os.path.join(repo, "openapi/openapi.json"), encoding="utf-8") as f:
    document = json.load(f)
SAMPLE = {"account": "acme", "cluster": "eu-1", "host": "www.acme.example.com",
          "sha256": "ab" * 32, "id": "0190c1de-0000-7000-8000-000000000000",
          "email": "ada@example.com"}
requests = []
for path, item in document["paths"].items():
    sample = re.sub(r"\{([a-z0-9_]+)\}", lambda m: SAMPLE.get(m.group(1), "x"), path)
    for method, operation in item.items():
        requests.append((f"{method.upper()} {sample}", sample, operation.get("x-flotilla-service")))
# The browser pages and the OAuth pages, which the document does not describe: the accounts
# service's (services/accounts/src/lib.rs page_routes, services/web/src/lib.rs).
for page in ["/", "/login", "/login/dev", "/auth/callback", "/logout", "/signup", "/console",
             "/console/acme", "/console/acme/dns", "/console/acme/clusters/eu-1", "/device",
             "/oauth/authorize", "/assets/0123456789ab/style.css"]:
    requests.append((f"page {page}", page, "accounts"))
for anywhere in ["/openapi.json", "/docs/", "/healthz", "/readyz", "/metrics"]:
    requests.append((f"GET {anywhere}", anywhere, None))


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# What selects a Deployment's pods, besides the Deployment itself.
SELECTORS = {
    "PodDisruptionBudget": lambda d: d["spec"]["selector"].get("matchLabels"),
    "Service": lambda d: d["spec"].get("selector"),
}


def check(overlay):
    with open(os.path.join(work, f"{overlay}.yaml"), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    where = f"deploy/overlays/{overlay}"
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in kinds.get("ConfigMap", [])}
    services = kinds.get("Service", [])
    deployments = kinds.get("Deployment", [])
    if not deployments:
        error(f"{where}: no Deployment")
    for name, data in configmaps.items():
        for key in data:
            if SECRET_LIKE.search(key):
                error(f"{where}: ConfigMap {name} holds {key}, a secret: put it in the Secret")
            if key not in DOCUMENTED:
                error(f"{where}: ConfigMap {name} sets {key}, which is not a Flotilla setting "
                      "documented in .env.example")

    runs_in = {}  # service name -> Deployment names
    pods_of = {}  # Deployment name -> (pod labels, services)
    for dep in deployments:
        name = dep["metadata"]["name"]
        spec = dep["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        if not selects(spec["selector"].get("matchLabels"), labels):
            error(f"{where}: Deployment {name}'s selector does not select its own pods")
        servers = [c for c in pod["containers"] if c.get("args", ["serve"])[:1] == ["serve"]]
        if len(servers) != 1:
            error(f"{where}: Deployment {name} needs exactly one container running `serve`")
            continue
        server = servers[0]
        env = {}
        for source in server.get("envFrom", []):
            if "configMapRef" in source:
                ref = source["configMapRef"]["name"]
                if ref not in configmaps:
                    error(f"{where}: Deployment {name} reads ConfigMap {ref}, which is not rendered")
                env.update(configmaps.get(ref, {}))
            elif "secretRef" in source:
                if source["secretRef"]["name"] != "flotilla":
                    error(f"{where}: Deployment {name} reads a Secret other than `flotilla`")
                if source["secretRef"].get("optional"):
                    error(f"{where}: Deployment {name}: the Secret must not be optional")
        for item in server.get("env", []):
            env[item["name"]] = item.get("value", "")
        for key in env:
            if key not in DOCUMENTED:
                error(f"{where}: Deployment {name} sets {key}, not a documented setting")
        chosen = [s.strip() for s in env.get("FLOTILLA_SERVICES", ",".join(sorted(ALL))).split(",")]
        for s in chosen:
            if s not in ALL:
                error(f"{where}: Deployment {name}: FLOTILLA_SERVICES names {s!r}")
            runs_in.setdefault(s, []).append(name)
        pods_of[name] = (labels, set(chosen))

        ports = {p.get("name"): p["containerPort"] for p in server.get("ports", [])}
        listen = env.get("FLOTILLA_LISTEN", "127.0.0.1:8080")
        if listen.rsplit(":", 1)[0] in ("127.0.0.1", "[::1]", "localhost"):
            error(f"{where}: Deployment {name}: FLOTILLA_LISTEN {listen} is loopback only")
        elif int(listen.rsplit(":", 1)[1]) not in ports.values():
            error(f"{where}: Deployment {name}: no container port for FLOTILLA_LISTEN {listen}")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = (server.get(probe) or {}).get("httpGet") or {}
            port = get.get("port")
            if get.get("path") != path or ports.get(port, port) not in ports.values():
                error(f"{where}: Deployment {name} needs a {probe} on {path} at its serving port")
        if env.get("FLOTILLA_DEV", "false").lower() in ("1", "true", "yes", "on"):
            error(f"{where}: Deployment {name} runs in development mode")
        if not env.get("FLOTILLA_PUBLIC_URL", "").startswith("https://"):
            error(f"{where}: Deployment {name}: FLOTILLA_PUBLIC_URL must be https://")

        security = pod.get("securityContext") or {}
        if not security.get("runAsNonRoot") or not security.get("runAsUser"):
            error(f"{where}: Deployment {name}: pods must run as a non-root user")
        every = pod["containers"] + pod.get("initContainers", [])
        for c in every:
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set((resources.get(kind) or {})):
                    error(f"{where}: Deployment {name}, container {c['name']}: cpu and memory {kind}")
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem") \
                    or "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                error(f"{where}: Deployment {name}, container {c['name']}: needs "
                      "allowPrivilegeEscalation false, a read-only root filesystem and no capabilities")
        migrate = [c for c in pod.get("initContainers", []) if c.get("args") == ["migrate"]]
        if len(migrate) != 1 or migrate[0]["image"] != server["image"]:
            error(f"{where}: Deployment {name} needs one init container running `migrate` on its image")
        elif migrate[0].get("envFrom") != server.get("envFrom"):
            error(f"{where}: Deployment {name}: `migrate` must read the server's configuration")
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        if str(rolling.get("maxUnavailable", "25%")) not in ("0", "0%"):
            error(f"{where}: Deployment {name}: a rollout must not take ready pods away first (maxUnavailable 0)")
        if "replicas" in spec:
            error(f"{where}: Deployment {name} sets replicas, which every apply would reset under its autoscaler")
        grace = int(env.get("FLOTILLA_SHUTDOWN_GRACE", "20"))
        pause = 0
        command = (((server.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
        if command[:1] == ["sleep"]:
            pause = int(command[1])
        if pod.get("terminationGracePeriodSeconds", 30) <= grace + pause:
            error(f"{where}: Deployment {name}: terminationGracePeriodSeconds must exceed "
                  f"FLOTILLA_SHUTDOWN_GRACE + the preStop pause ({grace + pause} s)")

        for kind, selector_of in SELECTORS.items():
            if not any(selects(selector_of(d), labels) for d in kinds.get(kind, [])):
                error(f"{where}: no {kind} for Deployment {name}")
        hpas = [h for h in kinds.get("HorizontalPodAutoscaler", [])
                if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
        if len(hpas) != 1 or hpas[0]["spec"].get("minReplicas", 1) < 2:
            error(f"{where}: Deployment {name} needs one HorizontalPodAutoscaler with minReplicas >= 2")

    # A PDB or Service must not mix Deployments (checked once every Deployment is known).
    for kind, selector_of in SELECTORS.items():
        for d in kinds.get(kind, []):
            chosen = [n for n, (labels, _) in pods_of.items() if selects(selector_of(d), labels)]
            if len(chosen) > 1:
                error(f"{where}: {kind} {d['metadata']['name']} selects the pods of several Deployments: {chosen}")
    for s in sorted(ALL):
        if len(runs_in.get(s, [])) != 1:
            error(f"{where}: the {s} service must run in exactly one Deployment (it runs in {runs_in.get(s, [])})")

    # The Ingress: backends, then where each request goes.
    ingresses = kinds.get("Ingress", [])
    if len(ingresses) != 1:
        error(f"{where}: expected one Ingress")
        return
    ingress = ingresses[0]
    regex = (ingress["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/use-regex") == "true"
    public = next(iter(configmaps.values()), {}).get("FLOTILLA_PUBLIC_URL", "")
    rules = ingress["spec"]["rules"]
    if len(rules) != 1 or f"https://{rules[0].get('host')}" != public.rstrip("/"):
        error(f"{where}: the Ingress's host must be FLOTILLA_PUBLIC_URL's ({public})")
    if not any(rules[0].get("host") in t.get("hosts", []) for t in ingress["spec"].get("tls", [])):
        error(f"{where}: the Ingress serves no TLS for its host")
    backends = []
    for p in rules[0]["http"]["paths"]:
        svc = p["backend"]["service"]
        target = next((s for s in services if s["metadata"]["name"] == svc["name"]), None)
        if target is None:
            error(f"{where}: the Ingress routes {p['path']} to Service {svc['name']}, which is not rendered")
            continue
        if not any(port.get("name") == svc["port"].get("name") for port in target["spec"]["ports"]):
            error(f"{where}: Service {svc['name']} has no port {svc['port']}")
        served = set()
        for dep, (labels, runs) in pods_of.items():
            if selects(target["spec"]["selector"], labels):
                served |= runs
        backends.append((p["path"], p["pathType"], svc["name"], served))

    def route(path):
        if regex:
            # ingress-nginx: longest path first, each a case-insensitive regex anchored at the start.
            for p, _, name, served in sorted(backends, key=lambda b: -len(b[0])):
                if re.match(p, path, re.IGNORECASE):
                    return name, served
            return None, set()
        best = None
        for p, kind, name, served in backends:
            if kind == "Exact" and path == p:
                return name, served
            prefix = p.rstrip("/")
            if kind == "Prefix" and (path == prefix or path.startswith(prefix + "/") or p == "/"):
                if best is None or len(p) > len(best[0]):
                    best = (p, name, served)
        return (best[1], best[2]) if best else (None, set())

    for label, path, service in requests:
        name, served = route(path)
        if name is None:
            error(f"{where}: the Ingress routes {label} nowhere")
        elif service and service not in served:
            error(f"{where}: the Ingress routes {label} to {name}, which does not run the {service} service")


for overlay in overlays:
    check(overlay)
for message in errors:
    print(f"deploy: error: {message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# --- deploy/agent: the in-cluster agent's base -------------------------------------------------

"$venv/bin/python" - "$repo" "$work/agent/rendered.yaml" <<'PY' || failed=1
import copy
import datetime
import glob
import itertools
import os
import re
import sys

import jsonschema
import yaml

repo, rendered = sys.argv[1:3]
WHERE = "deploy/agent"
errors = []


def error(message):
    errors.append(f"{WHERE}: {message}")


class KubectlLoader(yaml.SafeLoader):
    """YAML as kubectl sends it to the API server: a timestamp stays a string."""


KubectlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=KubectlLoader) if d]


NAMESPACE = "admiralty"
NAME = "flotilla-agent"            # Deployment, ServiceAccount, Lease, image
TOKEN_SECRET = "flotilla-registration-token"
TOKEN_KEY = "token"
# The agent's settings: those its crate declares (`env = "..."`), and RUST_LOG, which it reads
# itself (services/agent/src/main.rs).
SETTINGS = {"RUST_LOG"}
for path in glob.glob(os.path.join(repo, "services/agent/src/**/*.rs"), recursive=True):
    with open(path, encoding="utf-8") as f:
        SETTINGS |= set(re.findall(r'\benv\s*=\s*"([A-Z][A-Z0-9_]*)"', f.read()))
REQUIRED = {"FLOTILLA_URL", "FLOTILLA_ACCOUNT", "FLOTILLA_CLUSTER"}
for key in sorted(REQUIRED - SETTINGS):
    error(f"services/agent declares no setting {key}, which agent.env must set")
DOWNWARD = {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace",
            "POD_UID": "metadata.uid"}
# Names of secrets, or the path of one; not secrets themselves.
NOT_SECRET = {"FLOTILLA_IDENTITY_CA_SECRET", "FLOTILLA_REGISTRATION_TOKEN_FILE"}
SECRET_LIKE = re.compile(r"(TOKEN|SECRET|PASSWORD|_KEY$)")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}

# What the agent may do, and nothing more: (scope, API group, resource, verb, resource name or
# None for any). Scope "cluster" is a ClusterRoleBinding; otherwise a namespace.
READ = ("get", "list", "watch")
GROUP, VERSION = "multicluster.admiralty.io", "v1alpha1"  # Admiralty's
WATCHED = [("networking.k8s.io", "ingresses"), ("", "services"),
           ("discovery.k8s.io", "endpointslices"), ("", "nodes"),
           (GROUP, "kubeconfigs"), (GROUP, "trustedidentityproviders")]


def expected_grants(ca_secret):
    grants = {("cluster", g, r, v, None) for g, r in WATCHED for v in READ}
    # Events on Ingresses and Services live in their namespaces: create/patch cluster-wide.
    grants |= {("cluster", "events.k8s.io", "events", v, None) for v in ("create", "patch")}
    # Of Kubeconfigs and TrustedIdentityProviders, only the status is written.
    grants |= {("cluster", GROUP, f"{r}/status", "patch", None)
               for r in ("kubeconfigs", "trustedidentityproviders")}
    # The Secrets that Kubeconfigs name and the ConfigMaps flotilla-trusted-identities, in the
    # namespaces of those objects, known only at run time (and create takes no name): any name,
    # cluster-wide. Never a list or watch of Secrets.
    grants |= {("cluster", "", "secrets", v, None) for v in ("get", "create", "patch", "delete")}
    grants |= {("cluster", "", "configmaps", v, None) for v in ("get", "create", "patch")}
    # The token Secret is read through its mounted volume (the kubelet's access), never the API.
    grants |= {(NAMESPACE, "", "secrets", "get", ca_secret)}
    # Kubernetes cannot limit create to a name.
    grants.add((NAMESPACE, "", "secrets", "create", None))
    # The Lease is written with merge patches (services/agent/src/k8s/lease.rs).
    grants |= {(NAMESPACE, "coordination.k8s.io", "leases", v, NAME) for v in ("get", "patch")}
    grants.add((NAMESPACE, "coordination.k8s.io", "leases", "create", None))
    return grants


def quantity(value):
    """A Kubernetes quantity as a number (bytes, or cores)."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    if not m:
        return None
    units = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return float(m.group(1)) * units[m.group(2)] if m.group(2) in units else None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def over_nodes(terms, labels):
    """Whether one of these spread or anti-affinity terms keeps the pods with `labels` apart,
    a node each."""
    return any(t.get("topologyKey") == "kubernetes.io/hostname"
               and selects((t.get("labelSelector") or {}).get("matchLabels"), labels)
               for t in terms)


docs = load(rendered)
kinds = {}
for d in docs:
    kinds.setdefault(d["kind"], []).append(d)


def named(kind, name):
    """The rendered object of that kind and name (namespaces are checked on their own)."""
    return next((d for d in kinds.get(kind, []) if d["metadata"]["name"] == name), None)


# --- no secret in the files; everything in the agent's namespace ------------------------------

for s in kinds.get("Secret", []):
    error(f"renders the Secret {s['metadata']['name']}: a token or key must never be part of "
          f"these files; the user creates it (kubectl -n {NAMESPACE} create secret generic ...)")
if not named("Namespace", NAMESPACE):
    error(f"does not create the Namespace {NAMESPACE}")
for d in docs:
    if d["kind"] not in CLUSTER_SCOPED and d["metadata"].get("namespace") != NAMESPACE:
        error(f"{d['kind']} {d['metadata']['name']} is not in the namespace {NAMESPACE} "
              "(set `namespace:` in kustomization.yaml)")

# --- the ConfigMap generated from agent.env ---------------------------------------------------

env_file = os.path.join(repo, "deploy/agent/agent.env")
file_keys, commented = [], []
if not os.path.isfile(env_file):
    error("agent.env is missing")
else:
    with open(env_file, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=", line)
            if m:
                file_keys.append(m.group(1))
            m = re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", line)
            if m:
                commented.append(m.group(1))
for key in sorted(set(commented) - SETTINGS):
    error(f"agent.env suggests {key}, which is not a setting of the agent")
configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in kinds.get("ConfigMap", [])}
generated = [n for n in configmaps if re.fullmatch(r"flotilla-agent-config-[a-z0-9]{10}", n)]
if len(generated) != 1:
    error("expected one ConfigMap flotilla-agent-config-<hash>, generated from agent.env by "
          f"configMapGenerator (rendered: {sorted(configmaps) or 'none'})")
config = configmaps[generated[0]] if len(generated) == 1 else {}
if generated and sorted(config) != sorted(set(file_keys)):
    error(f"ConfigMap {generated[0]} holds {sorted(config)}, not the settings of agent.env "
          f"({sorted(set(file_keys))})")
for key in sorted(REQUIRED - set(config)):
    error(f"agent.env does not set {key}, which the agent requires")
for key, value in sorted(config.items()):
    if key not in SETTINGS:
        error(f"agent.env sets {key}, which is not a setting of the agent")
    if SECRET_LIKE.search(key) and key not in NOT_SECRET:
        error(f"agent.env sets {key}, a secret: it would be committed; the registration token "
              f"goes in the Secret {TOKEN_SECRET} (FLOTILLA_REGISTRATION_TOKEN_FILE)")
    if not str(value).strip():
        error(f"agent.env sets {key} to nothing; comment it out instead")
if config.get("FLOTILLA_URL") and not str(config["FLOTILLA_URL"]).startswith("https://"):
    error(f"FLOTILLA_URL must be https:// (it is {config['FLOTILLA_URL']})")
for key in ("FLOTILLA_ACCOUNT", "FLOTILLA_CLUSTER"):
    if key in config and not DNS_LABEL.match(str(config[key])):
        error(f"{key} {config[key]!r} is not a DNS label, as Flotilla's names are")
if "FLOTILLA_AGENT_NAMESPACE" in config and config["FLOTILLA_AGENT_NAMESPACE"] != NAMESPACE:
    error(f"FLOTILLA_AGENT_NAMESPACE must be {NAMESPACE}, where its Role and Secrets are")

# --- the Deployment ---------------------------------------------------------------------------

deployments = kinds.get("Deployment", [])
dep = named("Deployment", NAME)
if len(deployments) != 1 or dep is None:
    error(f"expected one Deployment, {NAME} (rendered: "
          f"{[d['metadata']['name'] for d in deployments]})")
    dep = deployments[0] if deployments else None
settings = dict(config)
account = None
pods_namespace = dep["metadata"].get("namespace") if dep else None
if dep is not None:
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels") or {}
    if spec.get("replicas") != 2:
        error(f"Deployment {NAME}: replicas must be 2 (one acts under the Lease, one waits), "
              f"not {spec.get('replicas', 'unset (1)')}")
    if not selects(spec["selector"].get("matchLabels"), labels):
        error(f"Deployment {NAME}'s selector does not select its own pods")
    containers = pod["containers"]
    if len(containers) != 1 or pod.get("initContainers"):
        error(f"Deployment {NAME}: expected one container, the agent")
    c = containers[0]
    image = c["image"].split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    if image != NAME:
        error(f"Deployment {NAME} runs the image {c['image']}, not flotilla-agent")
    if c.get("command") or c.get("args"):
        error(f"Deployment {NAME}: the container must run the image's entrypoint (no command or args)")

    # Configuration: the generated ConfigMap, the downward API, the token's file.
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]["name"]
            if ref not in configmaps:
                error(f"Deployment {NAME} reads ConfigMap {ref}, which is not rendered")
            elif ref not in generated:
                error(f"Deployment {NAME} reads ConfigMap {ref}, not the one of agent.env")
        else:
            error(f"Deployment {NAME}: envFrom {sorted(source)}: only the ConfigMap of agent.env")
    if not any((s.get("configMapRef") or {}).get("name") in generated for s in c.get("envFrom", [])):
        error(f"Deployment {NAME} does not read the ConfigMap of agent.env (envFrom)")
    for item in c.get("env", []):
        key = item["name"]
        if key in DOWNWARD:
            path = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if path != DOWNWARD[key]:
                error(f"Deployment {NAME}: {key} must come from the downward API ({DOWNWARD[key]})")
            continue
        if key not in SETTINGS:
            error(f"Deployment {NAME} sets {key}, which is not a setting of the agent")
        if key == "FLOTILLA_REGISTRATION_TOKEN":
            error(f"Deployment {NAME} sets FLOTILLA_REGISTRATION_TOKEN; mount the Secret "
                  f"{TOKEN_SECRET} and point FLOTILLA_REGISTRATION_TOKEN_FILE at it instead")
        elif "valueFrom" in item:
            error(f"Deployment {NAME}: {key} comes from valueFrom; set it in agent.env")
        else:
            settings[key] = item.get("value", "")
    for key in DOWNWARD:
        if key not in {i["name"] for i in c.get("env", [])}:
            error(f"Deployment {NAME} does not set {key} (downward API {DOWNWARD[key]}): the "
                  "agent names its Lease holder and its own Events with it")
    if settings.get("FLOTILLA_LOG_FORMAT") != "json":
        error(f"Deployment {NAME}: FLOTILLA_LOG_FORMAT must be json")

    # The registration token: an optional Secret volume, the file inside it.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    token_volumes = [n for n, v in volumes.items()
                     if (v.get("secret") or {}).get("secretName") == TOKEN_SECRET]
    for n, v in volumes.items():
        if "hostPath" in v:
            error(f"Deployment {NAME}: volume {n} is a hostPath")
        if "secret" in v and n not in token_volumes:
            error(f"Deployment {NAME} mounts the Secret {v['secret'].get('secretName')}; it reads "
                  f"its other Secrets through the API")
    token_file = settings.get("FLOTILLA_REGISTRATION_TOKEN_FILE")
    if len(token_volumes) != 1:
        error(f"Deployment {NAME}: expected one volume of the Secret {TOKEN_SECRET}")
    else:
        volume = volumes[token_volumes[0]]["secret"]
        if volume.get("optional") is not True:
            error(f"Deployment {NAME}: the volume of {TOKEN_SECRET} must be optional: the agent "
                  "starts without it, and a registered cluster needs none")
        items = {i["key"]: i["path"] for i in volume.get("items") or []}
        if items and TOKEN_KEY not in items:
            error(f"Deployment {NAME}: the volume of {TOKEN_SECRET} leaves out its key {TOKEN_KEY}")
        mounts = [m for m in c.get("volumeMounts", []) if m["name"] == token_volumes[0]]
        if len(mounts) != 1:
            error(f"Deployment {NAME}: the volume of {TOKEN_SECRET} is not mounted once")
        else:
            mount = mounts[0]
            if not mount.get("readOnly"):
                error(f"Deployment {NAME}: mount {TOKEN_SECRET} read-only")
            if mount.get("subPath"):
                error(f"Deployment {NAME}: {TOKEN_SECRET} is mounted with subPath, which the "
                      "kubelet never refreshes; mount the directory")
            expected = os.path.join(mount["mountPath"], items.get(TOKEN_KEY, TOKEN_KEY))
            if token_file != expected:
                error(f"Deployment {NAME}: FLOTILLA_REGISTRATION_TOKEN_FILE must be {expected} "
                      f"(key {TOKEN_KEY} of the mounted Secret), not {token_file or 'unset'}")

    # Health and metrics on the named port.
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    listen = settings.get("FLOTILLA_AGENT_LISTEN", "0.0.0.0:9090")
    host, _, port = listen.rpartition(":")
    if host.strip("[]") in ("127.0.0.1", "::1", "localhost"):
        error(f"Deployment {NAME}: FLOTILLA_AGENT_LISTEN {listen} is loopback only: probes fail")
    if "http-metrics" not in ports:
        error(f"Deployment {NAME}: no container port named http-metrics")
    elif not port.isdigit() or ports["http-metrics"] != int(port):
        error(f"Deployment {NAME}: port http-metrics ({ports['http-metrics']}) is not the port of "
              f"FLOTILLA_AGENT_LISTEN ({listen})")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path or get.get("port") not in ("http-metrics", ports.get("http-metrics")):
            error(f"Deployment {NAME} needs a {probe} GET {path} on port http-metrics"
                  + (" (liveness must not depend on Flotilla being reachable)"
                     if probe == "livenessProbe" else ""))

    # Resources.
    resources = c.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for key in ("cpu", "memory"):
        if quantity(requests.get(key, "")) is None:
            error(f"Deployment {NAME}: no {key} request")
    if quantity(limits.get("memory", "")) is None:
        error(f"Deployment {NAME}: no memory limit")
    elif quantity(requests.get("memory", "")) is not None \
            and quantity(limits["memory"]) < quantity(requests["memory"]):
        error(f"Deployment {NAME}: the memory limit is below the request")

    # Security: non-root, read-only, nothing to escalate.
    pod_sc, sc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    effective = {**pod_sc, **sc}
    if effective.get("runAsNonRoot") is not True or not effective.get("runAsUser"):
        error(f"Deployment {NAME}: must run as a non-root user (runAsNonRoot and a non-zero runAsUser)")
    if sc.get("readOnlyRootFilesystem") is not True:
        error(f"Deployment {NAME}: needs a read-only root filesystem")
    if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
        error(f"Deployment {NAME}: needs allowPrivilegeEscalation false (and no privileged)")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
        error(f"Deployment {NAME}: must drop ALL capabilities and add none")
    if (effective.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        error(f"Deployment {NAME}: needs the RuntimeDefault seccomp profile")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            error(f"Deployment {NAME}: {key} is set")

    # Two replicas on two nodes, one at a time disrupted.
    anti = (pod.get("affinity") or {}).get("podAntiAffinity") or {}
    anti_terms = [t.get("podAffinityTerm", t) for k in anti.values() for t in k]
    if not over_nodes(pod.get("topologySpreadConstraints") or [], labels) \
            and not over_nodes(anti_terms, labels):
        error(f"Deployment {NAME}: spread its replicas over nodes (topologySpreadConstraints or "
              "podAntiAffinity on kubernetes.io/hostname)")
    pdbs = [p for p in kinds.get("PodDisruptionBudget", [])
            if selects(p["spec"]["selector"].get("matchLabels"), labels)]
    if len(pdbs) != 1:
        error(f"Deployment {NAME} needs one PodDisruptionBudget selecting its pods")
    elif str(pdbs[0]["spec"].get("maxUnavailable", pdbs[0]["spec"].get("minAvailable"))) != "1":
        error(f"PodDisruptionBudget {pdbs[0]['metadata']['name']}: maxUnavailable (or minAvailable) "
              "must be 1 for two replicas")

    # The ServiceAccount it runs as: the subject of every binding below.
    account = pod.get("serviceAccountName")
    if not account or account == "default":
        error(f"Deployment {NAME} must run as its own ServiceAccount (serviceAccountName)")
        account = None
    elif named("ServiceAccount", account) is None:
        error(f"Deployment {NAME} runs as ServiceAccount {account}, which is not rendered")
    else:
        sa = named("ServiceAccount", account)
        if pod.get("automountServiceAccountToken", sa.get("automountServiceAccountToken", True)) is False:
            error(f"Deployment {NAME}: the agent calls the Kubernetes API; do not turn off "
                  "automountServiceAccountToken")

# --- RBAC: exactly the expected rules, all bound to the agent's ServiceAccount -----------------

roles = {("Role", r["metadata"]["name"], r["metadata"].get("namespace")): r for r in kinds.get("Role", [])}
roles |= {("ClusterRole", r["metadata"]["name"], None): r for r in kinds.get("ClusterRole", [])}
bound = set()
grants = set()
granted_twice = set()
for binding in kinds.get("RoleBinding", []) + kinds.get("ClusterRoleBinding", []):
    kind, name = binding["kind"], binding["metadata"]["name"]
    namespace = binding["metadata"].get("namespace")
    subjects = binding.get("subjects") or []
    # The pods' namespace is the ServiceAccount's.
    wanted = [{"kind": "ServiceAccount", "name": account, "namespace": pods_namespace}]
    agent_only = [{k: s.get(k) for k in ("kind", "name", "namespace")} for s in subjects] == wanted
    if account and not agent_only:
        error(f"{kind} {name} must bind exactly the agent's ServiceAccount "
              f"({pods_namespace}/{account}), not {subjects}")
    ref = binding["roleRef"]
    key = (ref["kind"], ref["name"], namespace if ref["kind"] == "Role" else None)
    role = roles.get(key)
    if role is None:
        error(f"{kind} {name} refers to {ref['kind']} {ref['name']}, which is not rendered")
        continue
    if account and agent_only:
        bound.add(key)
    scope = "cluster" if kind == "ClusterRoleBinding" else namespace
    if role.get("aggregationRule"):
        error(f"ClusterRole {ref['name']} aggregates other roles; list its rules")
    for rule in role.get("rules") or []:
        if rule.get("nonResourceURLs"):
            error(f"{ref['kind']} {ref['name']} grants non-resource URLs {rule['nonResourceURLs']}")
            continue
        fields = {f: rule.get(f) or [] for f in ("apiGroups", "resources", "verbs", "resourceNames")}
        wild = [f for f, values in fields.items() if "*" in values]
        if wild:
            error(f"{ref['kind']} {ref['name']} has a wildcard in {', '.join(wild)}: "
                  f"{ {f: fields[f] for f in wild} }; list exactly what the agent needs")
        for grant in itertools.product([scope], fields["apiGroups"], fields["resources"],
                                       fields["verbs"], fields["resourceNames"] or [None]):
            (granted_twice if grant in grants else grants).add(grant)
for key, role in roles.items():
    if key not in bound:
        error(f"{key[0]} {key[1]} is bound by no binding whose one subject is the "
              f"ServiceAccount the Deployment uses ({account})")

expected = expected_grants(settings.get("FLOTILLA_IDENTITY_CA_SECRET", "flotilla-identity-ca"))
cluster_wide = {(g, r, v) for s, g, r, v, n in expected if s == "cluster"}


def scope_words(scope):
    return "cluster-wide" if scope == "cluster" else f"in {scope}"


def resource_words(group, resource, name, any_name=""):
    return resource + (f".{group}" if group else "") + (f" named {name}" if name else any_name)


def covers(grant, wanted):
    """Whether `grant` allows what `wanted` names (a wildcard or any name allows more)."""
    return all(a == b or a == "*" for a, b in zip(grant[:4], wanted[:4])) \
        and grant[4] in (None, "*", wanted[4])


extra = {}
for scope, g, r, v, n in sorted(grants - expected, key=str):
    if "*" in (g, r, v, n):
        continue  # reported above, as a wildcard
    if r == "secrets" and v in ("list", "watch"):
        why = "the agent gets the Secrets it knows by name, never lists or watches them" + (
            "" if n else ": this would read every Secret of the "
            + ("cluster" if scope == "cluster" else "namespace"))
    elif g == GROUP and not r.endswith("/status") and v not in READ:
        why = "the agent writes only the status of these; the spec is the user's"
    elif g == "apiextensions.k8s.io":
        why = "the CRDs are applied with the manifests (crds.yaml), never by the agent"
    elif scope != "cluster" and (g, r, v) in cluster_wide:
        why = "the cluster-wide rule already grants it"
    elif n is None and any(e[:4] == (scope, g, r, v) for e in expected):
        why = "limit it with resourceNames"
    elif v not in READ:
        why = "a write the agent does not need"
    else:
        why = "the agent does not need it"
    extra.setdefault((resource_words(g, r, n, " (any name)"), scope_words(scope), why), []).append(v)
for (resource, where, why), verbs in extra.items():
    error(f"RBAC grants {', '.join(verbs)} on {resource} {where}: {why}")
twice = {}
for scope, g, r, v, n in sorted(granted_twice, key=str):
    twice.setdefault((resource_words(g, r, n, " (any name)"), scope_words(scope)), []).append(v)
for (resource, where), verbs in twice.items():
    error(f"RBAC grants {', '.join(verbs)} on {resource} {where} more than once: once is enough")
missing = {}
for wanted in sorted(expected, key=str):
    if any(covers(grant, wanted) for grant in grants):
        continue
    scope, g, r, v, n = wanted
    missing.setdefault((resource_words(g, r, n), scope_words(scope)), []).append(v)
for (resource, where), verbs in missing.items():
    error(f"RBAC does not grant {', '.join(verbs)} on {resource} {where}, which the agent needs")

# --- crds.yaml: Admiralty's Kubeconfig and TrustedIdentityProvider ----------------------------

# The broken variants at the end are tried only when this part has found nothing wrong.
before_crds = len(errors)

# The contract flotilla-agent implements (issue 21): every field of spec and status, as
# "type" or "type:format"; a dict is an object with exactly these properties, a one-item list
# an array of it.
REFERENCE = {"clusterName": "string", "accountName": "string"}
CONDITION = {"type": "string", "status": "string", "reason": "string", "message": "string",
             "lastTransitionTime": "string:date-time", "observedGeneration": "integer:int64"}
RESOLVED = '.status.conditions[?(@.type=="Resolved")]'
CONTRACT = {
    "Kubeconfig": {
        "names": {"plural": "kubeconfigs", "singular": "kubeconfig", "kind": "Kubeconfig",
                  "listKind": "KubeconfigList"},
        "spec": {"secretName": "string", "serviceAccountName": "string",
                 "cluster": {"server": "string", "certificateAuthorityData": "string",
                             "admiraltyReference": REFERENCE}},
        "status": {"resolved": "boolean", "cluster": "string", "server": "string",
                   "caFingerprint": "string", "secretName": "string",
                   "clientCertificateExpiresAt": "string:date-time",
                   "observedGeneration": "integer:int64", "conditions": [CONDITION]},
        "cluster": ".spec.cluster.admiraltyReference.clusterName",
    },
    "TrustedIdentityProvider": {
        "names": {"plural": "trustedidentityproviders", "singular": "trustedidentityprovider",
                  "kind": "TrustedIdentityProvider", "listKind": "TrustedIdentityProviderList"},
        "spec": {"prefix": "string", "certificateAuthorityData": "string",
                 "admiraltyReference": REFERENCE},
        "status": {"resolved": "boolean", "cluster": "string", "prefix": "string",
                   "certificateAuthorityData": "string",
                   "certificates": [{"sha256": "string", "subject": "string",
                                     "notAfter": "string:date-time"}],
                   "spiffeSequence": "integer:int64", "observedGeneration": "integer:int64",
                   "conditions": [CONDITION]},
        "cluster": ".spec.admiraltyReference.clusterName",
    },
}


def columns(cluster):
    """The printer columns, as (name, type, jsonPath, priority)."""
    return [("Resolved", "string", f"{RESOLVED}.status", 0), ("Cluster", "string", cluster, 0),
            ("Reason", "string", f"{RESOLVED}.reason", 1),
            ("Age", "date", ".metadata.creationTimestamp", 0)]


# --- structural schemas (what the API server requires of a v1 CRD, and our descriptions) -------

# Keywords a structural schema may use here; Kubernetes refuses $ref, definitions, dependencies,
# deprecated, id, patternProperties, additionalItems and uniqueItems: true outright, and allows
# allOf/anyOf/oneOf/not only without types and descriptions: none is needed here.
KEYWORDS = {"type", "format", "description", "properties", "items", "required", "enum",
            "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "minProperties",
            "maxProperties", "default", "nullable", "additionalProperties", "title", "example",
            "externalDocs", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
            "x-kubernetes-embedded-resource", "x-kubernetes-list-type",
            "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations"}


def structural(node, path, where):
    if not isinstance(node, dict):
        error(f"{where}: {path} is not a schema")
        return
    for key in sorted(set(node) - KEYWORDS):
        error(f"{where}: {path} uses `{key}`, which a structural schema cannot (or this check "
              "does not know)")
    if not node.get("type") and not node.get("x-kubernetes-int-or-string") \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        error(f"{where}: {path} has no type: every node of a structural schema needs one")
    if path != "openAPIV3Schema.metadata" and not str(node.get("description", "")).strip():
        error(f"{where}: {path} has no description: say what it is and what Flotilla does with it")
    if "properties" in node and "additionalProperties" in node:
        error(f"{where}: {path} has both properties and additionalProperties")
    if node.get("properties") is not None and node.get("type") != "object":
        error(f"{where}: {path} has properties but is not of type object")
    for name, child in (node.get("properties") or {}).items():
        structural(child, f"{path}.{name}", where)
    if isinstance(node.get("additionalProperties"), dict):
        structural(node["additionalProperties"], f"{path}.additionalProperties", where)
    if node.get("type") == "array":
        if not isinstance(node.get("items"), dict):
            error(f"{where}: {path} is an array without one items schema")
        else:
            structural(node["items"], f"{path}[]", where)
            keys = node.get("x-kubernetes-list-map-keys") or []
            if node.get("x-kubernetes-list-type") == "map":
                for key in keys:
                    if key not in (node["items"].get("required") or []):
                        error(f"{where}: {path}: the list-map key {key} must be required")
                if not keys:
                    error(f"{where}: {path}: a list of type map needs x-kubernetes-list-map-keys")


def shape(node):
    """A schema in the contract's notation."""
    if node.get("type") == "object" and "properties" in node:
        return {name: shape(child) for name, child in node["properties"].items()}
    if node.get("type") == "array":
        return [shape(node.get("items") or {})]
    return ":".join(filter(None, (node.get("type"), node.get("format"))))


def differences(got, wanted, path):
    """Where a schema's shape differs from the contract's."""
    if isinstance(wanted, dict) and isinstance(got, dict):
        out = [f"{path}.{k} is missing" for k in wanted if k not in got]
        out += [f"{path}.{k} is not in the contract" for k in got if k not in wanted]
        for k in wanted.keys() & got.keys():
            out += differences(got[k], wanted[k], f"{path}.{k}")
        return out
    if isinstance(wanted, list) and isinstance(got, list):
        return differences(got[0], wanted[0], f"{path}[]")
    return [] if got == wanted else [f"{path} is {got or 'untyped'}, not {wanted}"]


crds = {d["spec"]["names"]["kind"]: d for d in docs if d["kind"] == "CustomResourceDefinition"}
for kind in sorted(CONTRACT.keys() - crds.keys()):
    error(f"renders no CustomResourceDefinition for {kind} (crds.yaml in kustomization.yaml)")
for kind in sorted(crds.keys() - CONTRACT.keys()):
    error(f"renders a CustomResourceDefinition for {kind}, which the agent does not implement")
for d in docs:
    if d["kind"] in CONTRACT:
        error(f"renders a {d['kind']} ({d['metadata']['name']}): examples are not part of the base")

schemas = {}
for kind, crd in sorted(crds.items()):
    want = CONTRACT[kind]
    where = f"CustomResourceDefinition {crd['metadata']['name']}"
    spec = crd["spec"]
    if crd["apiVersion"] != "apiextensions.k8s.io/v1":
        error(f"{where}: apiVersion must be apiextensions.k8s.io/v1")
    if crd["metadata"]["name"] != f"{want['names']['plural']}.{GROUP}":
        error(f"{where}: must be named {want['names']['plural']}.{GROUP}, as Admiralty's")
    if "namespace" in crd["metadata"]:
        error(f"{where} has a namespace; a CRD is cluster-scoped")
    if spec.get("group") != GROUP:
        error(f"{where}: group must be {GROUP}, Admiralty's")
    names = spec["names"]
    for key, value in want["names"].items():
        if names.get(key) != value:
            error(f"{where}: names.{key} must be {value}, not {names.get(key)}")
    if names.get("shortNames"):
        error(f"{where} has short names {names['shortNames']}: they could clash with Admiralty's "
              "or another project's")
    if spec.get("scope") != "Namespaced":
        error(f"{where}: scope must be Namespaced, as Admiralty's")
    if spec.get("preserveUnknownFields"):
        error(f"{where}: spec.preserveUnknownFields makes the schema non-structural; keep unknown "
              "fields with x-kubernetes-preserve-unknown-fields at spec instead")
    if (spec.get("conversion") or {}).get("strategy", "None") != "None":
        error(f"{where}: no conversion webhook: one version only")
    versions = spec.get("versions") or []
    if [v["name"] for v in versions] != [VERSION]:
        error(f"{where}: expected one version, {VERSION} (got {[v['name'] for v in versions]})")
        continue
    version = versions[0]
    if version.get("served") is not True or version.get("storage") is not True:
        error(f"{where}: {VERSION} must be served and stored")
    if version.get("subresources") != {"status": {}}:
        error(f"{where}: needs the status subresource (and no other): "
              f"{version.get('subresources')}")
    got = [(c.get("name"), c.get("type"), c.get("jsonPath"), c.get("priority", 0))
           for c in version.get("additionalPrinterColumns") or []]
    if got != columns(want["cluster"]):
        error(f"{where}: printer columns must be, in this order, " + "; ".join(
            f"{n} ({t}, {p}" + (f", priority {pr})" if pr else ")")
            for n, t, p, pr in columns(want["cluster"])) + f", not {got}")
    schema = (version.get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(schema, dict):
        error(f"{where}: no openAPIV3Schema")
        continue
    schemas[kind] = schema
    structural(schema, "openAPIV3Schema", where)
    if schema.get("type") != "object":
        error(f"{where}: the root of the schema must be of type object")
    if set((schema.get("properties") or {}).get("metadata") or {}) - {"type"}:
        error(f"{where}: the schema may not restrict metadata here")
    props = schema.get("properties") or {}
    if sorted(props) != ["apiVersion", "kind", "metadata", "spec", "status"]:
        error(f"{where}: the schema's top-level fields must be apiVersion, kind, metadata, "
              f"spec and status, not {sorted(props)}")
    if (props.get("spec") or {}).get("x-kubernetes-preserve-unknown-fields") is not True:
        error(f"{where}: spec must keep unknown fields (x-kubernetes-preserve-unknown-fields): "
              "objects written for Admiralty's CRDs may have fields ours do not list")
    for part in ("spec", "status"):
        for problem in differences(shape(props.get(part) or {}), want[part], part):
            error(f"{where}: {problem}")
    conditions = ((props.get("status") or {}).get("properties") or {}).get("conditions") or {}
    item = conditions.get("items") or {}
    if sorted(item.get("required") or []) != sorted(set(CONDITION) - {"observedGeneration"}):
        error(f"{where}: status.conditions[] must require type, status, reason, message and "
              "lastTransitionTime, as metav1.Condition")
    status_enum = ((item.get("properties") or {}).get("status") or {}).get("enum")
    if status_enum != ["True", "False", "Unknown"]:
        error(f"{where}: status.conditions[].status must be one of True, False, Unknown")
    if conditions.get("x-kubernetes-list-type") != "map" \
            or conditions.get("x-kubernetes-list-map-keys") != ["type"]:
        error(f"{where}: status.conditions must be a list-map keyed by type (one per type)")

# --- the objects: Admiralty's tutorial and the agent's status, and what must be refused --------

formats = jsonschema.FormatChecker(formats=())
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@formats.checks("date-time", raises=ValueError)
def date_time(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.datetime.fromisoformat(value)  # a real date: no month 13
    return True


@formats.checks("int64")
def int64(value):
    return not isinstance(value, int) or -2**63 <= value < 2**63


def as_jsonschema(node):
    """An OpenAPI v3 schema of a CRD as JSON Schema, validated as the API server would with
    strict field validation (kubectl's default): an unknown field is refused, except under a
    node that keeps unknown fields."""
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("description", "default", "nullable",
                                                      "example", "externalDocs"):
            continue
        if key == "properties":
            value = {name: as_jsonschema(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = as_jsonschema(value)
        out[key] = value
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


validators = {}
for kind, schema in schemas.items():
    converted = as_jsonschema(schema)
    try:
        jsonschema.Draft4Validator.check_schema(converted)
    except jsonschema.SchemaError as e:
        error(f"CustomResourceDefinition of {kind}: the schema is not valid: {e.message}")
        continue
    validators[kind] = jsonschema.Draft4Validator(converted, format_checker=formats)


def problems(obj):
    """Why the API server would refuse obj (empty when it would accept it)."""
    if obj.get("apiVersion") != f"{GROUP}/{VERSION}":
        return [f"apiVersion {obj.get('apiVersion')} is not {GROUP}/{VERSION}"]
    if obj.get("kind") not in validators:
        return [f"no schema for kind {obj.get('kind')}"]
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validators[obj["kind"]].iter_errors(obj)]


examples = {}
for name in ("tutorial.yaml", "resolved.yaml"):
    path = os.path.join(repo, "deploy/agent/examples", name)
    if not os.path.isfile(path):
        error(f"examples/{name} is missing")
        continue
    examples[name] = load(path)
    for obj in examples[name]:
        label = f"examples/{name}: {obj.get('kind')} {(obj.get('metadata') or {}).get('name')}"
        for problem in problems(obj):
            error(f"{label} is refused by crds.yaml's schema: {problem}")

# Admiralty's tutorial: one Kubeconfig and one TrustedIdentityProvider, as users write them.
tutorial = {d.get("kind"): d for d in examples.get("tutorial.yaml", [])}
if len(examples.get("tutorial.yaml", [])) != 2 or set(tutorial) != set(CONTRACT):
    error("examples/tutorial.yaml must hold the tutorial's Kubeconfig and TrustedIdentityProvider")
for kind, obj in tutorial.items():
    if "status" in obj or not obj.get("spec"):
        error(f"examples/tutorial.yaml: the {kind} must be as the tutorial writes it (a spec, "
              "no status)")
# What the agent writes: every field of the contract's status, in at least one object.
resolved = examples.get("resolved.yaml", [])
for kind, want in CONTRACT.items():
    written = set().union(*[set(d.get("status") or {}) for d in resolved if d.get("kind") == kind])
    for field in sorted(set(want["status"]) - written):
        error(f"examples/resolved.yaml: no {kind} with status.{field}: show the full status the "
              "agent writes")

# Variants that must be refused, so this check is seen to fail: (base object, path, value).
DELETE = object()
base = {("tutorial", k): v for k, v in tutorial.items()}
# The first resolved object of each kind: the status the agent writes when all is well.
base |= {("resolved", d.get("kind")): d for d in reversed(resolved)
         if (d.get("status") or {}).get("resolved")}
REFUSED = [
    (("tutorial", "Kubeconfig"), "spec.secretName", 5),
    (("tutorial", "Kubeconfig"), "spec.cluster.admiraltyReference.clusterName", ["x"]),
    (("tutorial", "Kubeconfig"), "spec.cluster.admiraltyReference.clusterNmae", "us-west-2"),
    (("tutorial", "Kubeconfig"), "spec.cluster", "us-west-2"),
    (("tutorial", "Kubeconfig"), "spec.serviceAccountName", True),
    (("tutorial", "TrustedIdentityProvider"), "spec.prefix", {"spiffe": "management"}),
    (("tutorial", "TrustedIdentityProvider"), "spec.admiraltyReference", "management"),
    (("tutorial", "TrustedIdentityProvider"), "spec.admiraltyReference.accountName", 7),
    (("resolved", "Kubeconfig"), "status.resolved", "yes"),
    (("resolved", "Kubeconfig"), "status.clientCertificateExpiresAt", "in an hour"),
    (("resolved", "Kubeconfig"), "status.clientCertificateExpiresAt", "2026-13-07T05:13:43Z"),
    (("resolved", "Kubeconfig"), "status.observedGeneration", "1"),
    (("resolved", "Kubeconfig"), "status.conditions.0.status", "Yes"),
    (("resolved", "Kubeconfig"), "status.conditions.0.reason", DELETE),
    (("resolved", "Kubeconfig"), "status.conditions.0.reason", "not resolved"),
    (("resolved", "Kubeconfig"), "status.token", "abc"),
    (("resolved", "TrustedIdentityProvider"), "status.certificates.0.notAfter", "next year"),
    (("resolved", "TrustedIdentityProvider"), "status.certificates", "110dde17"),
    (("resolved", "TrustedIdentityProvider"), "status.spiffeSequence", 2**63),
    (("resolved", "TrustedIdentityProvider"), "apiVersion", f"{GROUP}/v1"),
]


def changed(obj, path, value):
    obj = copy.deepcopy(obj)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = obj
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return obj


if len(errors) == before_crds:
    for key, path, value in REFUSED:
        if key not in base:
            error(f"no {key[1]} in examples/{key[0]}.yaml to vary")
            continue
        try:
            variant = changed(base[key], path, value)
        except (KeyError, IndexError, TypeError):
            error(f"examples/{key[0]}.yaml: the {key[1]} has no {path} to vary")
            continue
        if not problems(variant):
            shown = "removed" if value is DELETE else f"{value!r}"
            error(f"crds.yaml's schema accepts a {key[1]} with {path} {shown}; it must refuse it")

for message in errors:
    print(f"deploy: error: {message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

[ "$failed" -eq 0 ] || exit 1

# --- deploy/monitoring --------------------------------------------------------------------------

if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "deploy: installing promtool (prometheus)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
  command -v promtool >/dev/null || die "needs promtool (apt-get install prometheus)"
fi
(cd "$monitoring" && promtool check rules rules.yaml >"$work/promtool.log" 2>&1) ||
  die "promtool check rules deploy/monitoring/rules.yaml: $(cat "$work/promtool.log")"
(cd "$monitoring" && promtool test rules rules_test.yaml >"$work/promtool.log" 2>&1) ||
  die "promtool test rules deploy/monitoring/rules_test.yaml: $(cat "$work/promtool.log")"
prometheus_rule | cmp -s - "$monitoring/prometheusrule.yaml" ||
  die "deploy/monitoring/prometheusrule.yaml is not what rules.yaml generates: run scripts/validate-deploy.sh --write-rules"
mkdir -p "$work/monitored"
printf '%s\n' "apiVersion: kustomize.config.k8s.io/v1beta1" "kind: Kustomization" \
  "resources: [$(realpath --relative-to="$work/monitored" "$repo/deploy/overlays/single")]" \
  "components: [$(realpath --relative-to="$work/monitored" "$monitoring")]" \
  >"$work/monitored/kustomization.yaml"
kubectl kustomize --load-restrictor LoadRestrictionsNone "$work/monitored" \
  >"$work/monitored.yaml" 2>"$work/monitored.err" ||
  die "the single overlay with deploy/monitoring does not render: $(cat "$work/monitored.err")"
"$venv/bin/python" - "$monitoring" "$work/monitored.yaml" <<'PY' || failed=1
import json
import sys

import yaml

monitoring, rendered = sys.argv[1], sys.argv[2]
errors = []
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)

monitors = by_kind.get("PodMonitor", [])
deployments = by_kind.get("Deployment", [])
if len(monitors) != 1:
    errors.append(f"expected one PodMonitor, found {len(monitors)}")
for monitor in monitors:
    wanted = monitor["spec"]["selector"].get("matchLabels", {})
    for dep in deployments:
        pod = dep["spec"]["template"]
        labels = pod["metadata"].get("labels", {})
        if any(labels.get(k) != v for k, v in wanted.items()):
            errors.append(f"the PodMonitor does not select the pods of Deployment {dep['metadata']['name']}")
        ports = {p.get("name") for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            if endpoint.get("port") not in ports:
                errors.append(f"the PodMonitor scrapes port {endpoint.get('port')!r}, which Deployment {dep['metadata']['name']} does not declare")
            if endpoint.get("path", "/metrics") != "/metrics":
                errors.append("the PodMonitor must scrape /metrics")

rules = yaml.safe_load(open(f"{monitoring}/rules.yaml"))
prometheus_rules = by_kind.get("PrometheusRule", [])
if len(prometheus_rules) != 1 or prometheus_rules[0]["spec"] != rules:
    errors.append("the rendered PrometheusRule does not carry rules.yaml's groups")
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
tests = yaml.safe_load(open(f"{monitoring}/rules_test.yaml"))
fired = {
    case["alertname"]
    for test in tests["tests"]
    for case in test.get("alert_rule_test", [])
    if case.get("exp_alerts")
}
for alert in alerts:
    if alert["alert"] not in fired:
        errors.append(f"alert {alert['alert']} has no promtool test in rules_test.yaml that fires it")
    if alert.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
        errors.append(f"alert {alert['alert']} needs a severity of critical, warning or info")
    if not alert.get("annotations", {}).get("summary"):
        errors.append(f"alert {alert['alert']} needs a summary")

maps = [m for m in by_kind.get("ConfigMap", []) if m["metadata"]["name"] == "flotilla-grafana-dashboard"]
if len(maps) != 1 or maps[0]["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
    errors.append("the dashboard's ConfigMap (labelled grafana_dashboard: \"1\") is missing")
dashboard = json.load(open(f"{monitoring}/dashboard.json"))
if maps and json.loads(maps[0]["data"]["flotilla-overview.json"]) != dashboard:
    errors.append("the dashboard's ConfigMap does not hold dashboard.json")
panels = dashboard.get("panels", [])
if not panels:
    errors.append("dashboard.json has no panels")
for panel in panels:
    if panel.get("datasource", {}).get("uid") != "${datasource}":
        errors.append(f"panel {panel.get('title')!r} must use the ${{datasource}} variable")
    if not panel.get("targets") or not all(t.get("expr") for t in panel["targets"]):
        errors.append(f"panel {panel.get('title')!r} has a target without a query")

for message in errors:
    print(f"deploy: error: monitoring: {message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
[ "$failed" -eq 0 ] || exit 1
echo "deploy: ok (${overlays[*]}; agent; monitoring: $(grep -c '^ *- alert:' "$monitoring/rules.yaml") alerts, promtool tests)"
