-- AlterTable
ALTER TABLE "Account" ADD COLUMN     "activationTokenAt" TIMESTAMP(3),
ADD COLUMN     "activationTokenHash" TEXT,
ADD COLUMN     "activationTokenSealed" TEXT;

-- CreateTable
CREATE TABLE "ConsumerKeyTombstone" (
    "consumerKeyHash" TEXT NOT NULL,
    "consumerSecretHash" TEXT NOT NULL,
    "accountId" TEXT,
    "deletedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ConsumerKeyTombstone_pkey" PRIMARY KEY ("consumerKeyHash")
);

-- CreateIndex
CREATE UNIQUE INDEX "Account_activationTokenHash_key" ON "Account"("activationTokenHash");

