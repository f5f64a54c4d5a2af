-- AlterTable
ALTER TABLE "Binding" ADD COLUMN     "probeWarning" TEXT,
ADD COLUMN     "probeWarningAt" TIMESTAMP(3),
ADD COLUMN     "unavailableReason" TEXT,
ADD COLUMN     "unavailableSince" TIMESTAMP(3);


-- Probe warnings written into lastError by the previous release move to their own column.
UPDATE "Binding" SET "probeWarning" = substr("lastError", 19), "probeWarningAt" = "lastErrorAt", "lastError" = NULL, "lastErrorAt" = NULL
WHERE "lastError" LIKE 'Revocation probe: %';
