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
# kubernetes-validate (PyPI, pinned by hash) is installed once into a virtualenv under
# ${XDG_CACHE_HOME:-~/.cache}/flotilla-ci; kubectl comes from the system (Debian's
# kubernetes-client, installed with apt-get when run as root). Prints `deploy: ok`, or one
# `deploy: error: ...` line per problem and exits 1.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

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

# --- render and validate every overlay -------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
overlays=()
for dir in "$repo"/deploy/overlays/*/; do
  name=$(basename "$dir")
  overlays+=("$name")
  kubectl kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err" ||
    die "kubectl kustomize deploy/overlays/$name failed: $(cat "$work/$name.err")"
  for version in 1.29.0 1.34.0; do
    if ! out=$("$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$work/$name.yaml" 2>&1); then
      printf '%s\n' "$out" >&2
      die "deploy/overlays/$name does not validate against Kubernetes $version (above)"
    fi
  done
done
[ ${#overlays[@]} -ge 2 ] || die "expected at least two overlays (single, split) under deploy/overlays"

"$venv/bin/python" - "$repo" "$work" "${overlays[@]}" <<'PY'
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

echo "deploy: ok (${overlays[*]})"
