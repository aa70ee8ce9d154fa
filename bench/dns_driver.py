"""Drives bench/dns.sh: registers clusters, reports endpoints through the API, and measures
failovers (from the agent's report, and from a cluster crossing to offline, to the provider's
acknowledgement; and for PowerDNS, to `dig` answering without the endpoint). Figures come from
the change history Flotilla records (learned_at, completed_at) and from the client's clock.

  python3 bench/dns_driver.py seed|failover ARGS...   (see bench/dns.sh)
"""

import argparse
import concurrent.futures
import json
import random
import statistics
import subprocess
import time
import urllib.request

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1", "us-west-2"]


def call(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def sql(args, query):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(args.pg_port), "-U", "postgres",
                          "-qAt", "-d", "flotilla", "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def jwt(args, i):
    with open(f"{args.fx}/c-{i}.jwt") as f:
        return f.read().strip()


def host(args, j):
    return f"h-{j}.{args.domain}"


def clusters_of(args, j):
    return [(j + k * 33) % args.clusters for k in range(3)]


def target(i, j):
    return f"10.{i}.{j // 256}.{j % 256}"


def report(args, i, j, healthy):
    url = f"{args.api}/clusters/c-{i}/endpoints/{host(args, j)}"
    return call("PUT", url, jwt(args, i), {"targets": [target(i, j)], "healthy": healthy})


def settled(args):
    return sql(args, "SELECT (SELECT count(*) FROM dns_dirty_hosts) + "
                     "(SELECT count(*) FROM dns_changes WHERE status = 'pending')") == "0"


def wait_settled(args, within=600):
    start = time.time()
    while not settled(args):
        if time.time() - start > within:
            raise SystemExit("not settled within %d s" % within)
        time.sleep(0.2)
    return time.time() - start


def seed(args):
    def register(i):
        with open(f"{args.fx}/c-{i}.json") as f:
            body = json.load(f)
        body["labels"] = {"region": REGIONS[i % len(REGIONS)]}
        call("PUT", f"{args.api}/clusters/c-{i}", args.token, body)
        call("POST", f"{args.api}/clusters/c-{i}/heartbeat", jwt(args, i), {"agent_version": "bench"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(register, range(args.clusters)))
        started = time.time()
        jobs = [(i, j) for j in range(args.hosts) for i in clusters_of(args, j)]
        list(pool.map(lambda ij: report(args, ij[0], ij[1], True), jobs))
    took = wait_settled(args)
    sets = sql(args, "SELECT count(*) FROM dns_record_sets WHERE applied IS NOT NULL")
    print(f"seeded {args.clusters} clusters, {args.hosts} hosts, {len(jobs)} endpoints, "
          f"{sets} record sets applied, {time.time() - started:.1f} s (last {took:.1f} s settling)")


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def newest_applied(args, host_name, since_id):
    return sql(args, "SELECT id, extract(epoch FROM completed_at - learned_at) FROM dns_changes "
                     f"WHERE host = '{host_name}' AND status = 'applied' AND id > {since_id} "
                     "ORDER BY id DESC LIMIT 1")


def dig_has(args, name, address):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(args.dig_port), "+short", "+tries=1", "+time=1", name, "A"],
                         capture_output=True, text=True).stdout
    return address in out.split()


def failover(args):
    rng = random.Random(7)
    to_ack, to_dig, offline = [], [], []
    for _ in range(args.rounds):
        j = rng.randrange(args.hosts)
        i = clusters_of(args, j)[0]
        last = sql(args, "SELECT coalesce(max(id), 0) FROM dns_changes")
        t0 = time.time()
        report(args, i, j, False)
        if args.dig_port:
            while dig_has(args, host(args, j), target(i, j)):
                if time.time() - t0 > 30:
                    raise SystemExit("dig still answered with the endpoint after 30 s")
                time.sleep(0.005)
            to_dig.append(time.time() - t0)
        while not (row := newest_applied(args, host(args, j), last)):
            if time.time() - t0 > 30:
                rows = sql(args, "SELECT id, status, attempts, error FROM dns_changes "
                                 f"WHERE host = '{host(args, j)}' AND id > {last}")
                raise SystemExit(f"a failover of {host(args, j)} was not applied within 30 s: {rows}")
            time.sleep(0.01)
        to_ack.append(float(row.split("|")[1]))
        report(args, i, j, True)
        wait_settled(args)
    for k in range(args.offline_rounds):
        i = rng.randrange(args.clusters)
        last = sql(args, "SELECT coalesce(max(id), 0) FROM dns_changes")
        hosts = [j for j in range(args.hosts) if i in clusters_of(args, j)]
        # Silent for two hours: the sweeper takes it offline, as it would after heartbeats stop.
        sql(args, f"UPDATE clusters SET last_heartbeat_at = now() - interval '2 hours' WHERE name = 'c-{i}'")
        start = time.time()
        while True:
            done = sql(args, "SELECT count(*), coalesce(max(extract(epoch FROM completed_at - learned_at)), 0) "
                             f"FROM dns_changes WHERE status = 'applied' AND id > {last} AND failover")
            n, worst = done.split("|")
            if int(n) >= len(hosts):
                offline.append(float(worst))
                break
            if time.time() - start > 30:
                rows = sql(args, "SELECT id, host, status, attempts, error FROM dns_changes "
                                 f"WHERE id > {last}")
                raise SystemExit(f"cluster c-{i}'s {len(hosts)} hosts were not applied within 30 s: {rows}")
            time.sleep(0.02)
        call("POST", f"{args.api}/clusters/c-{i}/heartbeat", jwt(args, i), {"agent_version": "bench"})
        wait_settled(args)
    line = lambda name, v: print(f"  {name:<44} n={len(v):<3} p50 {p(v, .5) * 1000:7.0f} ms   p99 {p(v, .99) * 1000:7.0f} ms   max {max(v) * 1000:7.0f} ms")
    print(f"failover latency ({args.provider}, {args.hosts} hosts, {args.clusters} clusters):")
    line("report healthy:false -> provider ack", to_ack)
    line("cluster crossing to offline -> provider ack", offline)
    if to_dig:
        line("report healthy:false -> dig without it", to_dig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["seed", "failover"])
    ap.add_argument("--api", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--fx", required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--domain", required=True)
    ap.add_argument("--provider", default="")
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--offline-rounds", type=int, default=10)
    ap.add_argument("--dig-port", type=int, default=0)
    args = ap.parse_args()
    {"seed": seed, "failover": failover}[args.phase](args)


if __name__ == "__main__":
    main()
