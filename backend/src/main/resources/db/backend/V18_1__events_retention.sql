-- Events are kept for a retention period (agentescrow.events.retention), then deleted with their
-- feed rows and finished deliveries by EventRetention.
--
-- The feed's foreign key to events goes: PostgreSQL checked it with a row lock on the event for
-- every feed row the sequencer wrote (two per settled transfer), and deleting an event would have
-- searched the feed by event id, which no index serves. The rule it stated holds by construction
-- and is tested (EventRetentionIT): feed rows are written only by the sequencer, from committed
-- events in the same transaction, and deleted only by the retention, before their event, in the
-- same transaction; every read joins the feed to its event.
ALTER TABLE event_feed DROP CONSTRAINT event_feed_event_id_fkey;

-- The retention deletes an event's deliveries (and the foreign key from deliveries checks them)
-- by event id.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
