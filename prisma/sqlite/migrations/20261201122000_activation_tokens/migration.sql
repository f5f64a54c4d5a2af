-- AlterTable
ALTER TABLE "Account" ADD COLUMN "activationTokenAt" DATETIME;
ALTER TABLE "Account" ADD COLUMN "activationTokenHash" TEXT;
ALTER TABLE "Account" ADD COLUMN "activationTokenSealed" TEXT;

-- CreateTable
CREATE TABLE "ConsumerKeyTombstone" (
    "consumerKeyHash" TEXT NOT NULL PRIMARY KEY,
    "consumerSecretHash" TEXT NOT NULL,
    "accountId" TEXT,
    "deletedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Account_activationTokenHash_key" ON "Account"("activationTokenHash");

