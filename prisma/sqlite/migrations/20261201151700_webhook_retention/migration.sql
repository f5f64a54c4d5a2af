-- CreateIndex
CREATE INDEX "WebhookEvent_createdAt_idx" ON "WebhookEvent"("createdAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_lastAttemptAt_idx" ON "WebhookDelivery"("status", "lastAttemptAt");

