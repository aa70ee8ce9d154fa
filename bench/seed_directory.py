#!/usr/bin/env python3
"""Seeds a development-mode Flotilla for bench/directory.sh: ACCOUNTS accounts (d0, d1, ...)
created by the developer, an owner API token of each, and the clusters of FIXTURE_DIR
(<prefix>-<i>.json registration bodies) registered round-robin across the accounts, 16 at a
time over keep-alive connections.

    seed_directory.py BASE_URL ACCOUNTS FIXTURE_DIR PREFIX COUNT TOKENS_OUT

Writes TOKENS_OUT: {"d0": "<owner token>", ...}. Reuses TOKENS_OUT's tokens when it exists
(so a second batch of clusters joins the same accounts).
"""

import datetime
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor


def connection(base):
    url = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def developer_tokens(base, accounts):
    conn = connection(base)
    conn.request("POST", "/login/dev", body="return_to=/",
                 headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat()
    tokens = {}
    for i in range(accounts):
        name = f"d{i}"
        headers = {"Origin": base, "Content-Type": "application/json", "Cookie": cookie}
        conn.request("POST", "/api/v1/accounts", body=json.dumps({"name": name}), headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            sys.exit(f"creating account {name}: {r.status}")
        conn.request("POST", f"/api/v1/accounts/{name}/tokens", headers=headers,
                     body=json.dumps({"name": "bench", "role": "owner", "expires_at": expires}))
        r = conn.getresponse()
        body = r.read()
        if r.status != 201:
            sys.exit(f"creating a token of {name}: {r.status} {body!r}")
        tokens[name] = json.loads(body)["token"]
    return tokens


def main(base, accounts, fixtures, prefix, count, tokens_out):
    accounts, count = int(accounts), int(count)
    if os.path.exists(tokens_out):
        with open(tokens_out) as f:
            tokens = json.load(f)
    else:
        tokens = developer_tokens(base, accounts)
        with open(tokens_out, "w") as f:
            json.dump(tokens, f)
    local = threading.local()
    started = time.monotonic()

    def register(i):
        if not hasattr(local, "conn"):
            local.conn = connection(base)
        account = f"d{i % accounts}"
        with open(os.path.join(fixtures, f"{prefix}-{i}.json"), "rb") as f:
            body = f.read()
        local.conn.request("PUT", f"/api/v1/accounts/{account}/clusters/{prefix}-{i}", body=body,
                           headers={"Authorization": f"Bearer {tokens[account]}",
                                    "Content-Type": "application/json"})
        r = local.conn.getresponse()
        answer = r.read()
        if r.status not in (200, 201):
            raise RuntimeError(f"{prefix}-{i}: {r.status} {answer[:300]!r}")

    with ThreadPoolExecutor(16) as pool:
        for done, _ in enumerate(pool.map(register, range(count)), 1):
            if done % 2000 == 0:
                print(f"  {done}/{count} clusters registered", flush=True)
    print(f"  {count} clusters in {accounts} accounts, {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:])
