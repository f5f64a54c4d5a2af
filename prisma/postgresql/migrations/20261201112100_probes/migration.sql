-- AlterTable
ALTER TABLE "Binding" ADD COLUMN     "lastCallOkAt" TIMESTAMP(3),
ADD COLUMN     "nextProbeAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Binding_state_nextProbeAt_idx" ON "Binding"("state", "nextProbeAt");

