-- AlterTable
ALTER TABLE "Binding" ADD COLUMN     "profileDetectedAt" TIMESTAMP(3),
ADD COLUMN     "signingProfile" TEXT;

-- CreateTable
CREATE TABLE "BindingEvent" (
    "id" TEXT NOT NULL,
    "bindingId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "detail" TEXT NOT NULL,

    CONSTRAINT "BindingEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BindingEvent_bindingId_at_idx" ON "BindingEvent"("bindingId", "at");

-- AddForeignKey
ALTER TABLE "BindingEvent" ADD CONSTRAINT "BindingEvent_bindingId_fkey" FOREIGN KEY ("bindingId") REFERENCES "Binding"("id") ON DELETE CASCADE ON UPDATE CASCADE;

