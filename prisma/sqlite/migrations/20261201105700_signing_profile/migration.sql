-- AlterTable
ALTER TABLE "Binding" ADD COLUMN "profileDetectedAt" DATETIME;
ALTER TABLE "Binding" ADD COLUMN "signingProfile" TEXT;

-- CreateTable
CREATE TABLE "BindingEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "bindingId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "kind" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    CONSTRAINT "BindingEvent_bindingId_fkey" FOREIGN KEY ("bindingId") REFERENCES "Binding" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "BindingEvent_bindingId_at_idx" ON "BindingEvent"("bindingId", "at");

