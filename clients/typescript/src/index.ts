// Flotilla's REST API from TypeScript: `paths` and `components` are generated from
// openapi/openapi.json (scripts/generate-clients.sh); openapi-fetch makes typed calls with them.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
/** An RFC 9457 problem: every error of the API (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];

/**
 * A client of the Flotilla at `baseUrl` (such as `https://flotilla.example.com`), sending
 * `token` (an API token `flt_...` or an access token) as the bearer of every call. A call may
 * pass other `headers`, e.g. a registration token for `PUT .../clusters/{cluster}`.
 */
export function flotilla(baseUrl: string, token?: string): Client<paths> {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}
