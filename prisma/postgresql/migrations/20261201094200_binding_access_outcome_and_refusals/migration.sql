-- DropIndex
DROP INDEX "Binding_state_nextAttemptAt_idx";

-- AlterTable
ALTER TABLE "Binding" ADD COLUMN     "accessOutcomeUnknown" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "CallbackRefusal" (
    "consumerKeyHash" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "field" TEXT,
    "message" TEXT NOT NULL,
    "refusedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CallbackRefusal_pkey" PRIMARY KEY ("consumerKeyHash")
);

-- CreateIndex
CREATE INDEX "CallbackRefusal_refusedAt_idx" ON "CallbackRefusal"("refusedAt");

-- CreateIndex
CREATE INDEX "Binding_nextAttemptAt_stepUntil_idx" ON "Binding"("nextAttemptAt", "stepUntil");


-- Rows written before the column existed said it only in lastError's wording.
UPDATE "Binding" SET "accessOutcomeUnknown" = true WHERE "lastError" LIKE 'The store did not answer our access-token request%';
