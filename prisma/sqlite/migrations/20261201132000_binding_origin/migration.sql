-- AlterTable
ALTER TABLE "Binding" ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'callback';

