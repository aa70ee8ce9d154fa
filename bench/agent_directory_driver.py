"""Drives bench/agent_directory.sh: the release flotilla-agent of a management cluster (kmock's
emulator) resolving 500 Kubeconfigs and 500 TrustedIdentityProviders, one of each per
workload cluster registered in Flotilla, over 10 namespaces; then rotations of workload
clusters' identity CAs, each measured from Flotilla's answer to the rotation to the affected
TrustedIdentityProvider's status and its namespace's ConfigMap holding both CAs.

Beside each figure, what bounds it and is measured in the same run: the emulator's own time
per request at that size (kmock answers in time proportional to every object it holds),
times the writes the agent made for the rotation (from its metrics). And what the agent asked
of Flotilla for it: its long-poll's answer and one lookup per affected cluster, never one
request per resource.

  python bench/agent_directory_driver.py --flotilla URL --token TOKEN --agent BIN --fixtures DIR
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_driver import Agent, Emulator, http, pct  # noqa: E402

GROUP = "/apis/multicluster.admiralty.io/v1alpha1"


def metric(agent, series):
    return agent.metrics().get(series, 0.0)


def register(args, i, body):
    http("PUT", f"{args.flotilla}/api/v1/accounts/bench/clusters/w-{i}", body, token=args.token)


def fixture(args, prefix, i):
    with open(os.path.join(args.fixtures, f"{prefix}-{i}.json")) as f:
        return json.load(f)


def cluster(args, i, rotated=False):
    """Workload cluster w-<i>'s registration: identity CA `w-<i>` (`r-<i>` once rotated), its
    API server's own CA `s-<i>`."""
    body = fixture(args, "w", i)
    if rotated:
        body["identity_ca"] = fixture(args, "r", i)["identity_ca"]
    body["server_ca"] = fixture(args, "s", i)["identity_ca"]
    body["server"] = f"https://w-{i}.example.test:6443"
    return body


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flotilla", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--agent-cpus", default="0")
    p.add_argument("--fixtures", required=True)
    p.add_argument("--clusters", type=int, default=500)
    p.add_argument("--namespaces", type=int, default=10)
    p.add_argument("--rotations", type=int, default=20)
    args = p.parse_args()
    args.work = tempfile.mkdtemp(prefix="flotilla-directory-bench.")
    n = args.clusters

    for i in range(n):
        register(args, i, cluster(args, i))
    token = http("POST", f"{args.flotilla}/api/v1/accounts/bench/registration-tokens",
                 {"description": "bench", "max_uses": 1}, token=args.token)["token"]
    token_file = os.path.join(args.work, "token")
    with open(token_file, "w") as f:
        f.write(token)

    emulator = Emulator(args.work)
    try:
        emulator.setup("us-east-1")
        started = time.monotonic()
        for i in range(n):
            ns = f"ns-{i % args.namespaces}"
            emulator.create(f"{GROUP}/namespaces/{ns}/kubeconfigs", {
                "apiVersion": "multicluster.admiralty.io/v1alpha1", "kind": "Kubeconfig",
                "metadata": {"name": f"w-{i}", "namespace": ns},
                "spec": {"secretName": f"w-{i}", "cluster": {"admiraltyReference": {"clusterName": f"w-{i}"}}}})
            emulator.create(f"{GROUP}/namespaces/{ns}/trustedidentityproviders", {
                "apiVersion": "multicluster.admiralty.io/v1alpha1", "kind": "TrustedIdentityProvider",
                "metadata": {"name": f"w-{i}", "namespace": ns},
                "spec": {"prefix": f"spiffe://w-{i}/", "admiraltyReference": {"clusterName": f"w-{i}"}}})
        print(f"== {n} Kubeconfigs and {n} TrustedIdentityProviders in {args.namespaces} namespaces "
              f"(the emulator took {time.monotonic() - started:.0f} s to create them)", flush=True)

        agent = Agent(args, emulator, "management", token_file)
        started = time.monotonic()

        def all_resolved():
            for plural in ("kubeconfigs", "trustedidentityproviders"):
                items = json.loads(urllib.request.urlopen(f"{emulator.url}{GROUP}/{plural}", timeout=60).read())["items"]
                if sum(1 for o in items if (o.get("status") or {}).get("resolved") is True) < n:
                    return False
            return True

        deadline = time.monotonic() + 3600
        while not all_resolved():
            if time.monotonic() > deadline:
                sys.exit("not every resource resolved within an hour")
            time.sleep(10)
        statuses = metric(agent, 'flotilla_agent_directory_writes_total{kind="status"}')
        secrets = metric(agent, 'flotilla_agent_directory_writes_total{kind="secret"}')
        lookups = metric(agent, 'flotilla_agent_reports_total{call="kubeconfig"}')
        print(f"first resolution of all {2 * n} resources: {time.monotonic() - started:.0f} s "
              f"({statuses:.0f} statuses, {secrets:.0f} Secrets written; {lookups:.0f} API-server "
              f"lookups at Flotilla)", flush=True)
        time.sleep(5)

        # Each rotation gives one cluster, picked at random, its second identity CA (`r-<i>`).
        e2e, agent_side, planning, floors, writes, asked = [], [], [], [], [], []
        for i in random.sample(range(n), args.rotations):
            ns = f"ns-{i % args.namespaces}"
            before = agent.metrics()
            count = before.get("flotilla_agent_directory_change_seconds_count", 0)
            register(args, i, cluster(args, i, rotated=True))
            t0 = time.monotonic()
            # Polls the agent's metrics (not the emulator, which every read slows down), every
            # 20 ms so that the polling takes little of the agent's core.
            after = agent.metrics_past("flotilla_agent_directory_change_seconds_count", count, 300,
                                       f"rotation of w-{i} applied", every=0.02)
            e2e.append(time.monotonic() - t0)
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            agent_side.append(delta.get("flotilla_agent_directory_change_seconds_sum", 0))
            planning.append(delta.get("flotilla_agent_directory_plan_seconds_sum", 0))
            written = sum(v for k, v in delta.items() if k.startswith("flotilla_agent_directory_writes_total"))
            writes.append(written)
            asked.append(sum(v for k, v in delta.items() if k.startswith("flotilla_agent_reports_total")
                             and ('"bundles"' in k or '"kubeconfig"' in k)))
            # What it wrote is right (read once, after the fact) ...
            tip = emulator.send("GET", f"{GROUP}/namespaces/{ns}/trustedidentityproviders/w-{i}")
            cm = emulator.send("GET", f"/api/v1/namespaces/{ns}/configmaps/flotilla-trusted-identities")
            if len(tip["status"]["certificates"]) != 2 or cm["data"][f"w-{i}.pem"].count("BEGIN CERTIFICATE") != 2:
                sys.exit(f"w-{i}: the rotation is not reflected: {tip['status']}")
            # ... and the emulator's time for one request now, times the writes, is its floor.
            t = time.monotonic()
            emulator.send("GET", f"{GROUP}/namespaces/{ns}/trustedidentityproviders/w-{i}")
            floors.append((time.monotonic() - t) * max(written, 1))
            time.sleep(0.5)

        def ms(values):
            return f"p50 {1000 * pct(values, 50):.0f} ms, p99 {1000 * pct(values, 99):.0f} ms, worst {1000 * max(values):.0f} ms"

        print(f"== {args.rotations} rotations of one workload cluster's identity CA")
        print(f"Flotilla's answer to the rotation -> every affected resource written: {ms(e2e)}; "
              f"budget 1 s: {'met' if pct(e2e, 99) < 1 else 'MISSED'}")
        print(f"of which the agent's round (the long-poll's answer -> written): {ms(agent_side)}; "
              f"its decisions alone (reading and deciding all {2 * n} resources, every round "
              f"of the rotation): {ms(planning)}")
        print(f"the emulator's floor (its time per request at this size x the agent's writes): {ms(floors)}; "
              f"above the floor: {ms([t - f for t, f in zip(e2e, floors)])}")
        print(f"writes per rotation: {sorted(set(int(w) for w in writes))}; requests to Flotilla per rotation "
              f"(bundle-map answers and API-server lookups): {sorted(set(int(a) for a in asked))}")
        polls = [line.split()[1] for line in urllib.request.urlopen(f"{args.flotilla}/metrics").read().decode().splitlines()
                 if line.startswith("flotilla_directory_long_polls ")]
        print(f"long-polls Flotilla holds for the agent: {polls}")
        print(f"resident memory: {agent.rss_mib():.1f} MiB watching {2 * n} resources")
        agent.proc.kill()
    finally:
        emulator.proc.terminate()


if __name__ == "__main__":
    main()
