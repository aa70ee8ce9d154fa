-- Fast failover. A cluster's endpoints leave DNS as soon as it is no longer `ready` (stale
-- after FLOTILLA_CLUSTER_STALE_AFTER without a heartbeat, 8 s by default), not only once it is
-- offline; a stale cluster is ready again once its heartbeats have kept coming for
-- FLOTILLA_CLUSTER_RECOVER_AFTER, which `beating_since` measures.

-- Start of the cluster's current run of heartbeats (no gap as long as the stale threshold).
ALTER TABLE clusters ADD COLUMN beating_since timestamptz;
UPDATE clusters SET beating_since = last_heartbeat_at;

-- A cluster entering or leaving `ready`, or moving region: all its hosts are planned again;
-- leaving is a failover.
CREATE OR REPLACE FUNCTION dns_cluster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dns_mark_dirty(e.account_id, e.host, OLD.status = 'ready' AND NEW.status <> 'ready')
    FROM dns_endpoints e WHERE e.cluster_id = NEW.id;
    RETURN NEW;
END $$;
DROP TRIGGER dns_cluster_changed ON clusters;
CREATE TRIGGER dns_cluster_changed AFTER UPDATE OF status, labels ON clusters
    FOR EACH ROW WHEN ((OLD.status = 'ready') <> (NEW.status = 'ready')
                       OR (OLD.labels ->> 'region') IS DISTINCT FROM (NEW.labels ->> 'region'))
    EXECUTE FUNCTION dns_cluster_changed();
