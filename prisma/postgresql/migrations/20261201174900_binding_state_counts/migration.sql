-- Bindings per state for /metrics without reading every binding (issue 16): triggers keep counters per state,
-- inside the statement that inserts, re-states or deletes bindings, whatever issues it (Prisma, the callback's hot
-- statements, cascades, scripts). Each statement adds its net change per state to the row (state, slot), slot being
-- the connection's pid modulo 16: concurrent transactions on other connections mostly write other rows, so a
-- callback's insert rarely waits for another's commit. The count is the sum over the slots. Statement-level
-- triggers: one write per statement and state, in state order (a multi-row DELETE locks its counter rows in one
-- order), and an UPDATE that changes no state writes nothing.
--
-- Prisma's PostgreSQL adapter splits a migration at every semicolon, so the function bodies are E'' strings whose
-- semicolons are written \x3b. It also runs each statement on its own, hence the explicit transaction: the LOCK
-- (refused outside a transaction block) keeps writers out between the initial counts and the triggers.
BEGIN;

-- CreateTable
CREATE TABLE "BindingStateCount" (
    "state" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "BindingStateCount_pkey" PRIMARY KEY ("state","slot")
);

LOCK TABLE "Binding" IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO "BindingStateCount" ("state", "slot", "n") SELECT "state", 0, COUNT(*) FROM "Binding" GROUP BY "state";

-- The net change per state of one statement's rows, added to this connection's slot.
CREATE FUNCTION "binding_state_count_add"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    IF TG_OP = ''INSERT'' THEN
        INSERT INTO "BindingStateCount" AS c ("state", "slot", "n")
            SELECT "state", pg_backend_pid() % 16, COUNT(*) FROM new_rows GROUP BY "state" ORDER BY "state"
            ON CONFLICT ("state", "slot") DO UPDATE SET "n" = c."n" + EXCLUDED."n"\x3b
    ELSIF TG_OP = ''DELETE'' THEN
        INSERT INTO "BindingStateCount" AS c ("state", "slot", "n")
            SELECT "state", pg_backend_pid() % 16, -COUNT(*) FROM old_rows GROUP BY "state" ORDER BY "state"
            ON CONFLICT ("state", "slot") DO UPDATE SET "n" = c."n" + EXCLUDED."n"\x3b
    ELSE
        INSERT INTO "BindingStateCount" AS c ("state", "slot", "n")
            SELECT "state", pg_backend_pid() % 16, SUM("d") FROM (
                SELECT "state", -1 AS "d" FROM old_rows UNION ALL SELECT "state", 1 AS "d" FROM new_rows
            ) AS changes GROUP BY "state" HAVING SUM("d") <> 0 ORDER BY "state"
            ON CONFLICT ("state", "slot") DO UPDATE SET "n" = c."n" + EXCLUDED."n"\x3b
    END IF\x3b
    RETURN NULL\x3b
END';

CREATE TRIGGER "Binding_count_insert" AFTER INSERT ON "Binding"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "binding_state_count_add"();

CREATE TRIGGER "Binding_count_update" AFTER UPDATE ON "Binding"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "binding_state_count_add"();

CREATE TRIGGER "Binding_count_delete" AFTER DELETE ON "Binding"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "binding_state_count_add"();

-- TRUNCATE fires no row triggers: it empties the counters with the table.
CREATE FUNCTION "binding_state_count_clear"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    DELETE FROM "BindingStateCount"\x3b
    RETURN NULL\x3b
END';

CREATE TRIGGER "Binding_count_truncate" AFTER TRUNCATE ON "Binding" FOR EACH STATEMENT EXECUTE FUNCTION "binding_state_count_clear"();

COMMIT;
