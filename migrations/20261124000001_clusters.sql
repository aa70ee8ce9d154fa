-- Clusters service: registration tokens, registered clusters with their public material
-- (identity CAs and the API server's CA: certificates only, never a key), the cluster events
-- shown to people, and the account-wide audit log.

-- A registration token: the secret is stored only as its SHA-256 beside a lookup prefix.
CREATE TABLE registration_tokens (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL,
    description  text NOT NULL,
    labels       jsonb NOT NULL DEFAULT '{}',   -- applied to every cluster it registers
    max_uses     integer NOT NULL CHECK (max_uses > 0),
    uses         integer NOT NULL DEFAULT 0 CHECK (uses <= max_uses),
    created_by   uuid REFERENCES persons (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX registration_tokens_account ON registration_tokens (account_id, created_at DESC);

-- Heartbeats update a cluster row in place many times a second across a fleet: the columns
-- they touch are not indexed, and the free space left in each page lets Postgres keep those
-- updates on the same page (HOT), without new index entries.
CREATE TABLE clusters (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                text NOT NULL,
    server              text NOT NULL,
    server_ca           bytea NOT NULL,          -- DER
    identity_ca         bytea NOT NULL,          -- SHA-256 of the current identity CA's DER
    labels              jsonb NOT NULL DEFAULT '{}',
    agent_version       text,
    registered_at       timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    registered_by_token uuid REFERENCES registration_tokens (id) ON DELETE SET NULL,
    status              text NOT NULL DEFAULT 'offline' CHECK (status IN ('ready', 'stale', 'offline')),
    status_changed_at   timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at   timestamptz,
    figures             jsonb,
    CONSTRAINT clusters_account_name_key UNIQUE (account_id, name)
) WITH (fillfactor = 70);

-- Every identity CA a cluster's agents may chain to: the current one and those it replaced,
-- until they are removed. `subject` is the DER of the subject name, to find the CA an
-- assertion's chain names as its issuer.
CREATE TABLE cluster_identity_cas (
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    sha256      bytea NOT NULL,
    certificate bytea NOT NULL,                  -- DER
    subject     bytea NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, sha256)
);
CREATE INDEX cluster_identity_cas_subject ON cluster_identity_cas (subject);

-- What happened to a cluster, for the people who run it: registration, updates, rotations,
-- status transitions. Not written per heartbeat.
CREATE TABLE cluster_events (
    id          bigserial PRIMARY KEY,
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    detail      text NOT NULL
);
CREATE INDEX cluster_events_cluster ON cluster_events (cluster_id, id DESC);

-- Who did what to an account: registrations, rotations, deregistrations, tokens, members.
CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('person', 'api-token', 'registration-token', 'cluster')),
    actor_id    uuid,
    actor       text NOT NULL,                   -- as shown: an email, a token's name, a cluster
    target      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    request_id  text,
    source      inet
);
CREATE INDEX audit_events_account ON audit_events (account_id, id DESC);
