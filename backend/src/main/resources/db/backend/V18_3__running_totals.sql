-- The running totals of V18_2 serve more than the marketplace: renamed, and the channels' gauges
-- (channels per state, read every second on every instance by a count over the whole table) are
-- kept the same way. Channel rows change often without changing state, so their trigger fires
-- only on an insert, a delete or a change of state.

ALTER TABLE market_metric_totals RENAME TO metric_totals;
ALTER INDEX market_metric_totals_pkey RENAME TO metric_totals_pkey;
ALTER TABLE market_metric_deltas RENAME TO metric_deltas;
ALTER INDEX market_metric_deltas_pkey RENAME TO metric_deltas_pkey;
ALTER SEQUENCE market_metric_deltas_id_seq RENAME TO metric_deltas_id_seq;

CREATE OR REPLACE FUNCTION market_tasks_metric_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO backend.metric_deltas (metric, key1, key2, delta)
    SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
        SELECT * FROM backend.market_task_contributions(NEW)
        UNION ALL SELECT o.metric, o.key1, o.key2, -o.delta FROM backend.market_task_contributions(OLD) o) c
    GROUP BY c.metric, c.key1, c.key2 HAVING sum(c.delta) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION market_requests_metric_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO backend.metric_deltas (metric, key1, key2, delta)
    SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
        SELECT * FROM backend.market_request_contributions(NEW)
        UNION ALL SELECT o.metric, o.key1, o.key2, -o.delta FROM backend.market_request_contributions(OLD) o) c
    GROUP BY c.metric, c.key1, c.key2 HAVING sum(c.delta) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION market_outcomes_metric_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO backend.metric_deltas (metric, key1, key2, delta)
    SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
        SELECT * FROM backend.market_outcome_contributions(NEW)
        UNION ALL SELECT o.metric, o.key1, o.key2, -o.delta FROM backend.market_outcome_contributions(OLD) o) c
    GROUP BY c.metric, c.key1, c.key2 HAVING sum(c.delta) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION channel_contributions(c backend.channels)
RETURNS TABLE (metric VARCHAR, key1 VARCHAR, key2 VARCHAR, delta NUMERIC) LANGUAGE sql STABLE AS $$
    SELECT 'channels'::VARCHAR, c.state::VARCHAR, ''::VARCHAR, 1::NUMERIC WHERE c.id IS NOT NULL
$$;

CREATE FUNCTION channels_metric_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO backend.metric_deltas (metric, key1, key2, delta)
    SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
        SELECT * FROM backend.channel_contributions(NEW)
        UNION ALL SELECT o.metric, o.key1, o.key2, -o.delta FROM backend.channel_contributions(OLD) o) c
    GROUP BY c.metric, c.key1, c.key2 HAVING sum(c.delta) <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER channels_metric_deltas AFTER INSERT OR DELETE ON channels
    FOR EACH ROW EXECUTE FUNCTION channels_metric_deltas();
CREATE TRIGGER channels_state_metric_deltas AFTER UPDATE OF state ON channels
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION channels_metric_deltas();

INSERT INTO metric_totals (metric, key1, key2, value)
SELECT x.metric, x.key1, x.key2, sum(x.delta) FROM channels c, channel_contributions(c) x
GROUP BY x.metric, x.key1, x.key2;
