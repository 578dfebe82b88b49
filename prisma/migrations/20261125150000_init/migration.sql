-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "fetch_outcome" AS ENUM ('ok', 'empty', 'invalid', 'error', 'rate_limited');

-- CreateTable
CREATE TABLE "product" (
    "id" INTEGER NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'Asia/Singapore',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "paused_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "product_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slot" (
    "id" BIGSERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "start_time" VARCHAR(5) NOT NULL,
    "end_time" VARCHAR(5) NOT NULL,
    "provider_slot_id" VARCHAR(200) NOT NULL,
    "remaining" INTEGER NOT NULL,
    "currency_code" VARCHAR(3) NOT NULL,
    "variant_id" INTEGER NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "slot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pax_availability" (
    "id" BIGSERIAL NOT NULL,
    "slot_id" BIGINT NOT NULL,
    "type" VARCHAR(100) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "is_primary" BOOLEAN NOT NULL DEFAULT false,
    "min" INTEGER NOT NULL,
    "max" INTEGER NOT NULL,
    "remaining" INTEGER NOT NULL,
    "final_price" DECIMAL(12,2) NOT NULL,
    "original_price" DECIMAL(12,2) NOT NULL,
    "discount" DECIMAL(12,2) NOT NULL,
    "currency_code" VARCHAR(3) NOT NULL,

    CONSTRAINT "pax_availability_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "day_fetch_state" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "last_attempt_at" TIMESTAMPTZ(3),
    "last_fetched_at" TIMESTAMPTZ(3),
    "last_outcome" "fetch_outcome",
    "slot_count" INTEGER NOT NULL DEFAULT 0,
    "last_slot_start" VARCHAR(5),
    "total_remaining" INTEGER,
    "next_due_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "forced_at" TIMESTAMPTZ(3),
    "claimed_by" VARCHAR(100),
    "claimed_until" TIMESTAMPTZ(3),

    CONSTRAINT "day_fetch_state_pkey" PRIMARY KEY ("product_id","date")
);

-- CreateTable
CREATE TABLE "sync_control" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "reason" TEXT,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "halted_until" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(3),

    CONSTRAINT "sync_control_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "partner_request" (
    "id" BIGSERIAL NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "instance_id" VARCHAR(100) NOT NULL,
    "product_id" INTEGER,
    "date" DATE,
    "status" INTEGER,

    CONSTRAINT "partner_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "slot_product_id_date_start_time_idx" ON "slot"("product_id", "date", "start_time");

-- CreateIndex
CREATE UNIQUE INDEX "slot_product_id_date_provider_slot_id_key" ON "slot"("product_id", "date", "provider_slot_id");

-- CreateIndex
CREATE UNIQUE INDEX "pax_availability_slot_id_type_key" ON "pax_availability"("slot_id", "type");

-- CreateIndex
CREATE INDEX "day_fetch_state_next_due_at_idx" ON "day_fetch_state"("next_due_at");

-- CreateIndex
CREATE INDEX "partner_request_sent_at_idx" ON "partner_request"("sent_at");

-- AddForeignKey
ALTER TABLE "slot" ADD CONSTRAINT "slot_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "product"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pax_availability" ADD CONSTRAINT "pax_availability_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "day_fetch_state" ADD CONSTRAINT "day_fetch_state_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "product"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The global sync switch is a singleton row that always exists.
INSERT INTO "sync_control" ("id") VALUES (1) ON CONFLICT DO NOTHING;
