-- The channels' gauges (channels per state, read every second on every instance by counts over
-- the whole table) from the running totals of V18_2. Channel rows change often without changing
-- state, so the update trigger fires only on a change of state.

CREATE FUNCTION channel_contributions(c backend.channels)
RETURNS TABLE (metric VARCHAR, key1 VARCHAR, key2 VARCHAR, delta NUMERIC) LANGUAGE sql STABLE AS $$
    SELECT 'channels'::VARCHAR, c.state::VARCHAR, ''::VARCHAR, 1::NUMERIC WHERE c.id IS NOT NULL
$$;

CREATE TRIGGER channels_metric_deltas AFTER INSERT OR DELETE ON channels
    FOR EACH ROW EXECUTE FUNCTION metric_deltas_of_change('channel_contributions');
CREATE TRIGGER channels_state_metric_deltas AFTER UPDATE OF state ON channels
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION metric_deltas_of_change('channel_contributions');

INSERT INTO metric_totals (metric, key1, key2, value)
SELECT x.metric, x.key1, x.key2, sum(x.delta) FROM channels c, channel_contributions(c) x
GROUP BY x.metric, x.key1, x.key2;
