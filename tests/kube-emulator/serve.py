#!/usr/bin/env python3
"""A Kubernetes API for the agent's tests: kmock's KubernetesEmulator, as published on PyPI,
served over HTTP on 127.0.0.1.

    serve.py PORT KUBECONFIG

declares the resources the agent reads and writes, writes a kubeconfig pointing at the
emulator, prints "READY <url>" once it listens, and serves until SIGTERM. Nothing here changes
how the emulator behaves: what it does not do like a real API server (no resourceVersions or
uids of its own, merge patches only, no replace, no conflict checks, watches that replay every
object and never end) is what the agent must cope with, and the README lists it.
"""
import asyncio
import signal
import sys

import kmock

# (group/version/plural, kind, namespaced)
RESOURCES = [
    ("v1/namespaces", "Namespace", False),
    ("v1/nodes", "Node", False),
    ("v1/services", "Service", True),
    ("v1/secrets", "Secret", True),
    ("v1/configmaps", "ConfigMap", True),
    ("v1/pods", "Pod", True),
    ("v1/events", "Event", True),
    ("events.k8s.io/v1/events", "Event", True),
    ("coordination.k8s.io/v1/leases", "Lease", True),
    ("discovery.k8s.io/v1/endpointslices", "EndpointSlice", True),
    ("networking.k8s.io/v1/ingresses", "Ingress", True),
    # Admiralty's resources, as deploy/agent/crds.yaml defines them.
    ("multicluster.admiralty.io/v1alpha1/kubeconfigs", "Kubeconfig", True),
    ("multicluster.admiralty.io/v1alpha1/trustedidentityproviders", "TrustedIdentityProvider", True),
]

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: emulator
  cluster:
    server: {url}
users:
- name: emulator
  user: {{}}
contexts:
- name: emulator
  context:
    cluster: emulator
    user: emulator
current-context: emulator
"""


async def main(port: int, kubeconfig: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(
        emulator, host="127.0.0.1", port=port
    ) as server:
        for key, kind, namespaced in RESOURCES:
            resource = emulator.resources[key]
            resource.kind = kind
            resource.namespaced = namespaced
            resource.singular = kind.lower()
            resource.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"}
        url = str(server.url).rstrip("/")
        with open(kubeconfig, "w") as f:
            f.write(KUBECONFIG.format(url=url))
        print(f"READY {url}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
