// Run by the test suite against a running Flotilla (services/server/tests/server/clients.rs):
// with an API token, list clusters; register one with a registration token; read the bundle
// map; and see a refusal as a typed problem. Exits non-zero on any surprise.
import assert from "node:assert/strict";
import { flotilla, type Problem } from "../src/index.js";

const env = (name: string): string => {
  const value = process.env[name];
  assert.ok(value, `${name} must be set`);
  return value;
};
const api = flotilla(env("FLOTILLA_URL"), env("API_TOKEN"));
const account = env("ACCOUNT");
const cluster = env("CLUSTER");

const before = await api.GET("/api/v1/accounts/{account}/clusters", { params: { path: { account } } });
assert.equal(before.response.status, 200);
assert.ok(!before.data?.some((c) => c.name === cluster), "not registered yet");

const registered = await api.PUT("/api/v1/accounts/{account}/clusters/{cluster}", {
  params: { path: { account, cluster } },
  headers: { Authorization: `Bearer ${env("REGISTRATION_TOKEN")}` },
  body: { identity_ca: env("IDENTITY_CA"), server: "https://203.0.113.10:6443", labels: { region: "eu-west-1" } },
});
assert.equal(registered.response.status, 201, JSON.stringify(registered.error));
assert.equal(registered.data?.outcome, "created");
assert.equal(registered.data?.spiffe_prefix, `spiffe://${cluster}/`);

const after = await api.GET("/api/v1/accounts/{account}/clusters", { params: { path: { account } } });
const mine = after.data?.find((c) => c.name === cluster);
assert.deepEqual([mine?.labels.region, mine?.status], ["eu-west-1", "offline"]);

const bundles = await api.GET("/api/v1/accounts/{account}/bundles", { params: { path: { account } } });
assert.equal(bundles.response.status, 200);
assert.ok(bundles.data?.trust_domains[cluster]?.keys.length, JSON.stringify(bundles.data));

const missing = await api.GET("/api/v1/accounts/{account}/clusters/{cluster}", {
  params: { path: { account, cluster: "nope" } },
});
const problem: Problem | undefined = missing.error;
assert.equal(missing.response.status, 404);
assert.equal(missing.response.headers.get("content-type"), "application/problem+json");
assert.equal(problem?.status, 404);
console.log("typescript client: ok");
