-- The change feed's durable log (issue 13): ids from a sequence, rows pruned after 24 h.

-- CreateTable
CREATE TABLE "change_event" (
    "id" BIGSERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "slots_added" INTEGER NOT NULL,
    "slots_removed" INTEGER NOT NULL,
    "slots_changed" INTEGER NOT NULL,
    "sold_out" BOOLEAN NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "change_event_created_at_idx" ON "change_event"("created_at");

-- CreateIndex
CREATE INDEX "change_event_product_id_id_idx" ON "change_event"("product_id", "id");

-- AddForeignKey
ALTER TABLE "change_event" ADD CONSTRAINT "change_event_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "product"("id") ON DELETE CASCADE ON UPDATE CASCADE;
