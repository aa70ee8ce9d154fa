"""Run by the test suite against a running Flotilla (services/server/tests/server/clients.rs):
the generated Python client lists clusters with an API token, registers one with a
registration token, reads the bundle map, and gets a refusal as a typed Problem."""

import os

from flotilla_client import AuthenticatedClient
from flotilla_client.api.clusters import get_cluster, list_clusters, register_cluster
from flotilla_client.api.directory import bundle_map
from flotilla_client.models import BundleMap, ClusterRegistration, Problem, Registered


def main() -> None:
    url, account, cluster = os.environ["FLOTILLA_URL"], os.environ["ACCOUNT"], os.environ["CLUSTER"]
    api = AuthenticatedClient(base_url=url, token=os.environ["API_TOKEN"], raise_on_unexpected_status=True)
    agent = AuthenticatedClient(base_url=url, token=os.environ["REGISTRATION_TOKEN"])

    before = list_clusters.sync(account, client=api)
    assert isinstance(before, list) and all(c.name != cluster for c in before), before

    body = ClusterRegistration.from_dict(
        {"identity_ca": os.environ["IDENTITY_CA"], "server": "https://203.0.113.11:6443", "labels": {"region": "us-east-1"}}
    )
    registered = register_cluster.sync_detailed(account, cluster, client=agent, body=body)
    assert registered.status_code == 201, registered.content
    assert isinstance(registered.parsed, Registered), registered.parsed
    assert registered.parsed.outcome == "created" and registered.parsed.spiffe_prefix == f"spiffe://{cluster}/"

    after = {c.name: c for c in list_clusters.sync(account, client=api)}
    assert after[cluster].labels.to_dict() == {"region": "us-east-1"}, after[cluster].labels
    assert after[cluster].status == "offline"

    bundles = bundle_map.sync(account, client=api)
    assert isinstance(bundles, BundleMap), bundles
    assert bundles.trust_domains[cluster].keys, bundles.trust_domains

    missing = get_cluster.sync_detailed(account, "nope", client=api)
    assert missing.status_code == 404 and isinstance(missing.parsed, Problem), missing.content
    assert missing.parsed.status == 404 and missing.headers["content-type"] == "application/problem+json"
    print("python client: ok")


if __name__ == "__main__":
    main()
