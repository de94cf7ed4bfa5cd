-- Numbered V16_9 (not V11_x) so that it sorts after every migration a database of an earlier
-- release has already applied: Flyway refuses a new version below the applied ones.
-- Issue 11 (settlement keeps up): storing a batch's claims inserts one settlement_batch_movements
-- row per movement, 16,384 for a full batch, in one statement. Two per-row costs go:
--
-- 1. settlement_batch_movements_transfer indexed transfer_id over every row, beside the claim
--    index settlement_batch_movements_one_claim on the same column over the rows not reverted.
--    Every reader of a transfer's movement row asks for one that is not reverted (a confirmed or
--    open batch's rows never are), which the claim index answers, so the second index only cost
--    each claim an index entry.
-- 2. The foreign key to settlement_batches ran its check once per inserted row (16,384 lookups of
--    the same batch row, a third of the statement's time). The same rule is now checked once per
--    statement, over all the rows it inserted; a batch row that movement rows name cannot be
--    deleted or renumbered (the rows are never deleted today).
DROP INDEX settlement_batch_movements_transfer;
ALTER TABLE settlement_batch_movements DROP CONSTRAINT settlement_batch_movements_batch_row_id_fkey;

CREATE FUNCTION settlement_batch_movements_rows_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted n WHERE NOT EXISTS (
                   SELECT 1 FROM settlement_batches b WHERE b.row_id = n.batch_row_id)) THEN
        RAISE EXCEPTION 'settlement_batch_movements names a batch row that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER settlement_batch_movements_batch_row_inserted AFTER INSERT ON settlement_batch_movements
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION settlement_batch_movements_rows_exist();

CREATE FUNCTION settlement_batch_movements_row_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM settlement_batches b WHERE b.row_id = NEW.batch_row_id) THEN
        RAISE EXCEPTION 'settlement_batch_movements names batch row % that does not exist', NEW.batch_row_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER settlement_batch_movements_batch_row_updated BEFORE UPDATE OF batch_row_id ON settlement_batch_movements
    FOR EACH ROW EXECUTE FUNCTION settlement_batch_movements_row_exists();

CREATE FUNCTION settlement_batches_keep_named_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM settlement_batch_movements m WHERE m.batch_row_id = OLD.row_id) THEN
        RAISE EXCEPTION 'batch row % is named by its movement rows', OLD.row_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER settlement_batches_named_rows BEFORE DELETE OR UPDATE OF row_id ON settlement_batches
    FOR EACH ROW EXECUTE FUNCTION settlement_batches_keep_named_rows();
