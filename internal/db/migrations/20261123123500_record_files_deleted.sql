-- Hand-written: the periodic job looks for the record files deleted
-- before the retention cutoff on every replica, every few minutes. Only
-- deleted files are indexed: the live ones, nearly all of them, never are.
CREATE INDEX "record_files_deleted_at" ON "record_files" ("deleted_at", "id")
  WHERE "deleted_at" IS NOT NULL;
