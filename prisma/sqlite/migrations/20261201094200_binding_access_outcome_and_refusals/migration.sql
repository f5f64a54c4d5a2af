-- CreateTable
CREATE TABLE "CallbackRefusal" (
    "consumerKeyHash" TEXT NOT NULL PRIMARY KEY,
    "reason" TEXT NOT NULL,
    "field" TEXT,
    "message" TEXT NOT NULL,
    "refusedAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Binding" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "consumerKey" TEXT NOT NULL,
    "storeBaseUrl" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "accountId" TEXT,
    "consumerSecretSealed" TEXT NOT NULL,
    "verifierSealed" TEXT,
    "callbackAt" DATETIME NOT NULL,
    "requestTokenSealed" TEXT,
    "requestTokenSecretSealed" TEXT,
    "requestVerifierSealed" TEXT,
    "requestTokenAt" DATETIME,
    "accessTokenSealed" TEXT,
    "accessTokenSecretSealed" TEXT,
    "accessVerifierSealed" TEXT,
    "activatedAt" DATETIME,
    "revokedAt" DATETIME,
    "step" TEXT,
    "stepUntil" DATETIME,
    "stepAttempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME,
    "lastError" TEXT,
    "lastErrorAt" DATETIME,
    "fix" TEXT,
    "accessOutcomeUnknown" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Binding_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Binding" ("accessTokenSealed", "accessTokenSecretSealed", "accessVerifierSealed", "accountId", "activatedAt", "callbackAt", "consumerKey", "consumerSecretSealed", "createdAt", "fix", "id", "lastError", "lastErrorAt", "nextAttemptAt", "requestTokenAt", "requestTokenSealed", "requestTokenSecretSealed", "requestVerifierSealed", "revokedAt", "state", "step", "stepAttempts", "stepUntil", "storeBaseUrl", "updatedAt", "verifierSealed", "version") SELECT "accessTokenSealed", "accessTokenSecretSealed", "accessVerifierSealed", "accountId", "activatedAt", "callbackAt", "consumerKey", "consumerSecretSealed", "createdAt", "fix", "id", "lastError", "lastErrorAt", "nextAttemptAt", "requestTokenAt", "requestTokenSealed", "requestTokenSecretSealed", "requestVerifierSealed", "revokedAt", "state", "step", "stepAttempts", "stepUntil", "storeBaseUrl", "updatedAt", "verifierSealed", "version" FROM "Binding";
DROP TABLE "Binding";
ALTER TABLE "new_Binding" RENAME TO "Binding";
CREATE UNIQUE INDEX "Binding_consumerKey_key" ON "Binding"("consumerKey");
CREATE INDEX "Binding_accountId_idx" ON "Binding"("accountId");
CREATE INDEX "Binding_nextAttemptAt_stepUntil_idx" ON "Binding"("nextAttemptAt", "stepUntil");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "CallbackRefusal_refusedAt_idx" ON "CallbackRefusal"("refusedAt");


-- Rows written before the column existed said it only in lastError's wording.
UPDATE "Binding" SET "accessOutcomeUnknown" = true WHERE "lastError" LIKE 'The store did not answer our access-token request%';
