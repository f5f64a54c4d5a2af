-- AlterTable
ALTER TABLE "Binding" ADD COLUMN "probeWarning" TEXT;
ALTER TABLE "Binding" ADD COLUMN "probeWarningAt" DATETIME;
ALTER TABLE "Binding" ADD COLUMN "unavailableReason" TEXT;
ALTER TABLE "Binding" ADD COLUMN "unavailableSince" DATETIME;


-- Probe warnings written into lastError by the previous release move to their own column.
UPDATE "Binding" SET "probeWarning" = substr("lastError", 19), "probeWarningAt" = "lastErrorAt", "lastError" = NULL, "lastErrorAt" = NULL
WHERE "lastError" LIKE 'Revocation probe: %';
