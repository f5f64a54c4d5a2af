-- AlterTable
ALTER TABLE "Binding" ADD COLUMN "accessVerifierSealed" TEXT;

