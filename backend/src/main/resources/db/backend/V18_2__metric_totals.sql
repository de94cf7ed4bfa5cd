-- Running totals for gauges that would otherwise count or sum whole tables (common.db.RunningTotals),
-- first for the marketplace: MarketMetrics aggregated market_tasks, market_requests and
-- market_outcomes whole every second on every instance, a cost that grew with every task ever
-- posted. A row trigger on each counted table writes what a change adds to or takes from each
-- metric (an insert-only delta, so concurrent writers never wait on a shared counter row); the
-- service folds the deltas into the totals under an advisory lock and reads a few rows. Each
-- metric's rule lives in one place: a contribution function per table, used by the trigger and by
-- the backfill, and checked against a full aggregation in MarketTasksIT.

CREATE TABLE metric_totals (
    metric VARCHAR(16)   NOT NULL,
    key1   VARCHAR(64)   NOT NULL,
    key2   VARCHAR(64)   NOT NULL,
    value  NUMERIC(78,0) NOT NULL,
    PRIMARY KEY (metric, key1, key2)
);

CREATE TABLE metric_deltas (
    id     BIGSERIAL     PRIMARY KEY,
    metric VARCHAR(16)   NOT NULL,
    key1   VARCHAR(64)   NOT NULL,
    key2   VARCHAR(64)   NOT NULL,
    delta  NUMERIC(78,0) NOT NULL CHECK (delta <> 0)
);

-- The trigger of every counted table; its argument names the table's contribution function
-- (a row -> (metric, key1, key2, delta) rows; none for a NULL row: the OLD of an insert, the NEW of
-- a delete). One delta per metric the change moves, none when it moves nothing.
CREATE FUNCTION metric_deltas_of_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO backend.metric_deltas (metric, key1, key2, delta)
                    SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
                        SELECT * FROM backend.%1$I($1)
                        UNION ALL SELECT o.metric, o.key1, o.key2, -o.delta FROM backend.%1$I($2) o) c
                    GROUP BY c.metric, c.key1, c.key2 HAVING sum(c.delta) <> 0', TG_ARGV[0])
        USING NEW, OLD;
    RETURN NULL;
END $$;

CREATE FUNCTION market_task_contributions(t backend.market_tasks)
RETURNS TABLE (metric VARCHAR, key1 VARCHAR, key2 VARCHAR, delta NUMERIC) LANGUAGE sql STABLE AS $$
    SELECT v.metric, v.key1, v.key2, v.delta FROM (VALUES
        ('tasks'::VARCHAR, t.state::VARCHAR, ''::VARCHAR, 1::NUMERIC),
        ('cleared', '', '', CASE WHEN t.clearing_price IS NOT NULL THEN 1 ELSE 0 END),
        ('disputes', 'open', '', CASE WHEN t.state = 'DISPUTED' THEN 1 ELSE 0 END),
        ('disputes', 'decided', '', CASE WHEN t.state = 'RESOLVED' THEN 1 ELSE 0 END),
        ('payouts', 'TASK', t.token::VARCHAR,
         CASE WHEN t.state IN ('SCORED', 'RESOLVED', 'CLOSED') THEN coalesce(t.payout, 0) ELSE 0 END)
    ) v (metric, key1, key2, delta)
    WHERE t.id IS NOT NULL AND v.delta <> 0
$$;

CREATE FUNCTION market_request_contributions(r backend.market_requests)
RETURNS TABLE (metric VARCHAR, key1 VARCHAR, key2 VARCHAR, delta NUMERIC) LANGUAGE sql STABLE AS $$
    SELECT v.metric, v.key1, v.key2, v.delta FROM (VALUES
        ('disputes'::VARCHAR, 'open'::VARCHAR, ''::VARCHAR, CASE WHEN r.state = 'DISPUTED' THEN 1 ELSE 0 END::NUMERIC),
        ('disputes', 'decided', '', CASE WHEN r.state = 'RESOLVED' THEN 1 ELSE 0 END),
        ('payouts', 'REQUEST', r.token::VARCHAR,
         CASE WHEN r.state IN ('SCORED', 'RESOLVED', 'CLOSED') THEN coalesce(r.payout, 0) ELSE 0 END)
    ) v (metric, key1, key2, delta)
    WHERE r.id IS NOT NULL AND v.delta <> 0
$$;

CREATE FUNCTION market_outcome_contributions(o backend.market_outcomes)
RETURNS TABLE (metric VARCHAR, key1 VARCHAR, key2 VARCHAR, delta NUMERIC) LANGUAGE sql STABLE AS $$
    SELECT 'outcomes'::VARCHAR, o.kind::VARCHAR, o.result::VARCHAR, 1::NUMERIC WHERE o.id IS NOT NULL
$$;

CREATE TRIGGER market_tasks_metric_deltas AFTER INSERT OR UPDATE OR DELETE ON market_tasks
    FOR EACH ROW EXECUTE FUNCTION metric_deltas_of_change('market_task_contributions');
CREATE TRIGGER market_requests_metric_deltas AFTER INSERT OR UPDATE OR DELETE ON market_requests
    FOR EACH ROW EXECUTE FUNCTION metric_deltas_of_change('market_request_contributions');
CREATE TRIGGER market_outcomes_metric_deltas AFTER INSERT OR UPDATE OR DELETE ON market_outcomes
    FOR EACH ROW EXECUTE FUNCTION metric_deltas_of_change('market_outcome_contributions');

-- What is there already.
INSERT INTO metric_totals (metric, key1, key2, value)
SELECT c.metric, c.key1, c.key2, sum(c.delta) FROM (
    SELECT x.* FROM market_tasks t, market_task_contributions(t) x
    UNION ALL SELECT x.* FROM market_requests r, market_request_contributions(r) x
    UNION ALL SELECT x.* FROM market_outcomes o, market_outcome_contributions(o) x) c
GROUP BY c.metric, c.key1, c.key2;
