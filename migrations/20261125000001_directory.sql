-- Directory service: SPIFFE bundle sequence numbers, the JWT authorities clusters publish,
-- the account setting that publishes bundles for federation, and the change announcements
-- that keep every replica's directory cache (and its long-polls) current.

-- One sequence for every bundle: a number is never handed out twice, so a trust domain's
-- `spiffe_sequence` keeps rising even when its cluster is deregistered and registered again.
CREATE SEQUENCE spiffe_bundle_sequence;

ALTER TABLE clusters
    ADD COLUMN bundle_sequence bigint NOT NULL DEFAULT nextval('spiffe_bundle_sequence');

-- Off by default: a trust domain's bundle is public only once an admin says so.
ALTER TABLE accounts
    ADD COLUMN publish_spiffe_bundles boolean NOT NULL DEFAULT false;

-- The `jwt-svid` keys a cluster publishes (e.g. its service-account issuer's), as the
-- normalised public JWKs the API accepted. Kept apart from `clusters`, whose rows heartbeats
-- rewrite many times a minute.
CREATE TABLE cluster_jwt_authorities (
    cluster_id uuid PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    keys       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Announcements: `NOTIFY flotilla_directory, '<account id>'`, delivered at commit (Postgres
-- folds repeats within one transaction into one). Triggers rather than application code, so
-- no write path, present or future, can change the directory without telling the replicas.
CREATE FUNCTION directory_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('flotilla_directory', OLD.account_id::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('flotilla_directory', NEW.account_id::text);
    RETURN NEW;
END $$;

CREATE TRIGGER clusters_directory_membership AFTER INSERT OR DELETE ON clusters
    FOR EACH ROW EXECUTE FUNCTION directory_announce();

-- Heartbeats update other columns: `OF` keeps this trigger out of their way entirely.
CREATE TRIGGER clusters_directory_kubeconfig AFTER UPDATE OF server, server_ca ON clusters
    FOR EACH ROW
    WHEN (OLD.server IS DISTINCT FROM NEW.server OR OLD.server_ca IS DISTINCT FROM NEW.server_ca)
    EXECUTE FUNCTION directory_announce();

-- A change to a cluster's trusted identity CAs or JWT authorities changes its bundle: the
-- bundle takes the next sequence number, and the account's directory is announced.
CREATE FUNCTION directory_bundle_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.cluster_id ELSE NEW.cluster_id END;
    account uuid;
BEGIN
    UPDATE clusters SET bundle_sequence = nextval('spiffe_bundle_sequence')
        WHERE id = changed RETURNING account_id INTO account;
    -- A cascade from a deleted cluster finds no row; the cluster's own trigger announced it.
    IF FOUND THEN
        PERFORM pg_notify('flotilla_directory', account::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cluster_identity_cas_bundle AFTER INSERT OR DELETE ON cluster_identity_cas
    FOR EACH ROW EXECUTE FUNCTION directory_bundle_changed();

CREATE TRIGGER cluster_jwt_authorities_bundle AFTER INSERT OR UPDATE OR DELETE
    ON cluster_jwt_authorities
    FOR EACH ROW EXECUTE FUNCTION directory_bundle_changed();
