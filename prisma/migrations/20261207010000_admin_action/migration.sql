-- CreateTable
CREATE TABLE "admin_action" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" VARCHAR(50) NOT NULL,
    "target" VARCHAR(200) NOT NULL,
    "token_id" VARCHAR(64) NOT NULL,
    "request_id" VARCHAR(128),

    CONSTRAINT "admin_action_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "admin_action_at_idx" ON "admin_action"("at");
