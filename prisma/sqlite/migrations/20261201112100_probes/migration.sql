-- AlterTable
ALTER TABLE "Binding" ADD COLUMN "lastCallOkAt" DATETIME;
ALTER TABLE "Binding" ADD COLUMN "nextProbeAt" DATETIME;

-- CreateIndex
CREATE INDEX "Binding_state_nextProbeAt_idx" ON "Binding"("state", "nextProbeAt");

