-- Bindings per state for /metrics without reading every binding (issue 16): triggers keep one counter per state,
-- inside the statement that inserts, re-states or deletes a binding, whatever issues it (Prisma, the callback's hot
-- statements, cascades, scripts). SQLite has one writer at a time, so one row per state (slot 0) is enough.
-- One transaction (Prisma runs a migration's statements one by one): no binding is written between the initial
-- counts and the triggers taking over.
BEGIN IMMEDIATE;

-- CreateTable
CREATE TABLE "BindingStateCount" (
    "state" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("state", "slot")
);

-- The counts of the rows already there: the triggers take over from here (one migration, one transaction).
INSERT INTO "BindingStateCount" ("state", "slot", "n") SELECT "state", 0, COUNT(*) FROM "Binding" GROUP BY "state";

CREATE TRIGGER "Binding_count_insert" AFTER INSERT ON "Binding"
BEGIN
    INSERT INTO "BindingStateCount" ("state", "slot", "n") VALUES (NEW."state", 0, 1)
        ON CONFLICT ("state", "slot") DO UPDATE SET "n" = "n" + 1;
END;

CREATE TRIGGER "Binding_count_update" AFTER UPDATE OF "state" ON "Binding" WHEN OLD."state" IS NOT NEW."state"
BEGIN
    INSERT INTO "BindingStateCount" ("state", "slot", "n") VALUES (OLD."state", 0, -1)
        ON CONFLICT ("state", "slot") DO UPDATE SET "n" = "n" - 1;
    INSERT INTO "BindingStateCount" ("state", "slot", "n") VALUES (NEW."state", 0, 1)
        ON CONFLICT ("state", "slot") DO UPDATE SET "n" = "n" + 1;
END;

CREATE TRIGGER "Binding_count_delete" AFTER DELETE ON "Binding"
BEGIN
    INSERT INTO "BindingStateCount" ("state", "slot", "n") VALUES (OLD."state", 0, -1)
        ON CONFLICT ("state", "slot") DO UPDATE SET "n" = "n" - 1;
END;

COMMIT;
