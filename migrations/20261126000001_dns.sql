-- Global DNS: the endpoints agents report, the hosts waiting to be planned again (the outbox),
-- the record sets Flotilla plans and owns in the provider's zone, and the history of changes.

-- TTL of every record set of the account's hosts (the weighted ones must share it).
ALTER TABLE accounts ADD COLUMN dns_ttl integer NOT NULL DEFAULT 1 CHECK (dns_ttl BETWEEN 1 AND 86400);

-- What an agent reported for one host of its cluster. Deregistering the cluster deletes them,
-- which (through the trigger below) takes them out of DNS.
CREATE TABLE dns_endpoints (
    cluster_id  uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    account_id  uuid NOT NULL,
    host        text NOT NULL,                  -- fully qualified, lower case, no trailing dot
    targets     text[] NOT NULL,                -- addresses, or one hostname
    weight      smallint NOT NULL CHECK (weight BETWEEN 0 AND 255),
    healthy     boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster_id, host)
);
CREATE INDEX dns_endpoints_by_host ON dns_endpoints (account_id, host);

-- Hosts to plan again, written in the same transaction as the fact that changed them, so
-- nothing learned is lost to a crash. `failover` marks a host losing an endpoint: it jumps the
-- queue. No foreign key: a deleted account's hosts must still be planned (to nothing).
CREATE TABLE dns_dirty_hosts (
    account_id  uuid NOT NULL,
    host        text NOT NULL,
    failover    boolean NOT NULL DEFAULT false,
    since       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (account_id, host)
);

-- Record sets of one provider zone that Flotilla plans (`desired`) and holds (`applied`, as
-- the provider last acknowledged). A row is Flotilla's claim on that name: nothing else in
-- the zone is ever changed. Data is Route53-shaped JSON: {ttl, values, region?, weight?}.
CREATE TABLE dns_record_sets (
    zone        text NOT NULL,
    name        text NOT NULL,                  -- fully qualified, lower case, trailing dot
    type        text NOT NULL,
    set_id      text NOT NULL DEFAULT '',       -- '' for a simple record set
    account_id  uuid NOT NULL,
    host        text NOT NULL,
    desired     jsonb,
    applied     jsonb,
    quarantine  text,                           -- why the provider refused the host's change
    planned_at  timestamptz NOT NULL DEFAULT now(),
    applied_at  timestamptz,
    PRIMARY KEY (zone, name, type, set_id)
);
CREATE INDEX dns_record_sets_by_host ON dns_record_sets (account_id, host);

-- Changes to one host's record sets: queued (pending, not submitted), submitted (pending,
-- submitted_at set), then applied, quarantined (the provider refused it alone), or failed
-- (its outcome was lost, e.g. to a crash; the zone is re-read and the rest resubmitted).
CREATE TABLE dns_changes (
    id                  bigserial PRIMARY KEY,
    zone                text NOT NULL,
    account_id          uuid NOT NULL,
    host                text NOT NULL,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'applied', 'failed', 'quarantined')),
    failover            boolean NOT NULL DEFAULT false,
    actions             jsonb NOT NULL DEFAULT '[]',
    provider_change_id  text,
    attempts            integer NOT NULL DEFAULT 0,
    error               text,
    learned_at          timestamptz NOT NULL,   -- when Flotilla learned what made the change
    queued_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    submitted_at        timestamptz,
    completed_at        timestamptz
);
CREATE INDEX dns_changes_by_account ON dns_changes (account_id, id DESC);
CREATE INDEX dns_changes_open ON dns_changes (zone, failover DESC, id) WHERE status = 'pending';
CREATE UNIQUE INDEX dns_changes_one_queued ON dns_changes (zone, account_id, host)
    WHERE status = 'pending' AND submitted_at IS NULL;

CREATE FUNCTION dns_mark_dirty(account uuid, dirty_host text, is_failover boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dns_dirty_hosts (account_id, host, failover) VALUES (account, dirty_host, is_failover)
    ON CONFLICT (account_id, host) DO UPDATE SET failover = dns_dirty_hosts.failover OR EXCLUDED.failover;
    PERFORM pg_notify('flotilla_dns', '');
END $$;

-- An endpoint added, changed or removed: its host is planned again. Losing one (deleted, or
-- reported unhealthy) is a failover.
CREATE FUNCTION dns_endpoint_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM dns_mark_dirty(OLD.account_id, OLD.host, true);
        RETURN OLD;
    END IF;
    PERFORM dns_mark_dirty(NEW.account_id, NEW.host,
        TG_OP = 'UPDATE' AND (OLD.healthy AND NOT NEW.healthy OR NOT NEW.targets @> OLD.targets));
    RETURN NEW;
END $$;
CREATE TRIGGER dns_endpoint_added_or_removed AFTER INSERT OR DELETE ON dns_endpoints
    FOR EACH ROW EXECUTE FUNCTION dns_endpoint_changed();
CREATE TRIGGER dns_endpoint_updated AFTER UPDATE ON dns_endpoints
    FOR EACH ROW WHEN (OLD.targets IS DISTINCT FROM NEW.targets OR OLD.weight <> NEW.weight
                       OR OLD.healthy <> NEW.healthy)
    EXECUTE FUNCTION dns_endpoint_changed();

-- A cluster going offline (or back), or moving region: all its hosts are planned again.
CREATE FUNCTION dns_cluster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dns_mark_dirty(e.account_id, e.host, NEW.status = 'offline')
    FROM dns_endpoints e WHERE e.cluster_id = NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER dns_cluster_changed AFTER UPDATE OF status, labels ON clusters
    FOR EACH ROW WHEN ((OLD.status = 'offline') <> (NEW.status = 'offline')
                       OR (OLD.labels ->> 'region') IS DISTINCT FROM (NEW.labels ->> 'region'))
    EXECUTE FUNCTION dns_cluster_changed();

-- A new TTL for the account: all its hosts are planned again.
CREATE FUNCTION dns_account_ttl_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dns_mark_dirty(NEW.id, h.host, false)
    FROM (SELECT DISTINCT host FROM dns_endpoints WHERE account_id = NEW.id) h;
    RETURN NEW;
END $$;
CREATE TRIGGER dns_account_ttl_changed AFTER UPDATE OF dns_ttl ON accounts
    FOR EACH ROW WHEN (OLD.dns_ttl <> NEW.dns_ttl)
    EXECUTE FUNCTION dns_account_ttl_changed();

-- Record sets in the zone that Flotilla did not write, as last read from the provider. Batches
-- are checked against them, so a host whose name is taken is quarantined, never overwritten.
CREATE TABLE dns_foreign_sets (
    zone        text NOT NULL,
    name        text NOT NULL,
    type        text NOT NULL,
    set_id      text NOT NULL DEFAULT '',
    data        jsonb NOT NULL,
    PRIMARY KEY (zone, name, type, set_id)
);
