-- CreateIndex
CREATE INDEX "Account_createdAt_id_idx" ON "Account"("createdAt", "id");

-- CreateIndex
CREATE INDEX "Binding_createdAt_id_idx" ON "Binding"("createdAt", "id");

