-- Accounts service: people, accounts and their members, browser sessions, Flotilla's own
-- token service (signing keys, authorization codes, device codes, refresh-token families)
-- and API tokens. Every secret a client holds is stored only as its SHA-256.

CREATE TABLE persons (
    id            uuid PRIMARY KEY,
    issuer        text NOT NULL,
    subject       text NOT NULL,
    email         text,            -- lower-cased, for display and for invitations
    email_verified boolean NOT NULL DEFAULT false, -- only a verified email matches members
    name          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX persons_email ON persons (email);

CREATE TABLE accounts (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES persons (id) ON DELETE SET NULL,
    CONSTRAINT accounts_name_key UNIQUE (name)
);

CREATE TABLE memberships (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    person_id  uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, person_id)
);
CREATE INDEX memberships_person ON memberships (person_id);

-- Members added by email before their first log-in; they join when they log in.
CREATE TABLE invitations (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email      text NOT NULL,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    invited_by uuid REFERENCES persons (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, email)
);
CREATE INDEX invitations_email ON invitations (email);

-- An upstream log-in in progress: what the callback needs, keyed by the hash of `state`.
CREATE TABLE login_attempts (
    state_hash    bytea PRIMARY KEY,
    provider      text NOT NULL,
    pkce_verifier text NOT NULL,
    nonce         text NOT NULL,
    return_to     text NOT NULL,
    expires_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    person_id    uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Token-signing keys. The private key is sealed (AES-256-GCM) under the wrapping secret of
-- the configuration; the public JWK is published until every token it signed has expired.
CREATE TABLE signing_keys (
    kid           text PRIMARY KEY,
    algorithm     text NOT NULL CHECK (algorithm = 'ES256'),
    public_jwk    jsonb NOT NULL,
    sealed_key    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz,          -- stops signing
    publish_until timestamptz           -- stops being published (retired_at + token lifetime)
);

-- A refresh-token family: one log-in of one client, revoked as a whole.
CREATE TABLE oauth_grants (
    id             uuid PRIMARY KEY,
    person_id      uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    client_id      text NOT NULL,
    scope          text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX oauth_grants_person ON oauth_grants (person_id);

CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    grant_id    uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    replaced_by bytea
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE authorization_codes (
    code_hash      bytea PRIMARY KEY,
    person_id      uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    client_id      text NOT NULL,
    redirect_uri   text NOT NULL,
    code_challenge text NOT NULL,
    scope          text NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    grant_id       uuid REFERENCES oauth_grants (id) ON DELETE SET NULL
);

CREATE TABLE device_codes (
    device_code_hash bytea PRIMARY KEY,
    user_code        text NOT NULL UNIQUE,
    client_id        text NOT NULL,
    scope            text NOT NULL,
    expires_at       timestamptz NOT NULL,
    interval_secs    integer NOT NULL,
    last_polled_at   timestamptz,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    person_id        uuid REFERENCES persons (id) ON DELETE CASCADE
);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL,
    created_by   uuid REFERENCES persons (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);
