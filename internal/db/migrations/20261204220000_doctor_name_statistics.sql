-- Name searches are prefixes of one expression index. With the default
-- 100-bucket histogram of 200,000 names sharing their first words, the
-- planner could not tell a prefix matching 0.05% of doctors from one
-- matching 1%, and at 1% it walks the primary key for the page instead
-- (about 12,000 rows read for a prefix of 100 doctors). A finer histogram
-- keeps its estimate near the truth.
ALTER INDEX "doctors_name_folded" ALTER COLUMN 1 SET STATISTICS 1000;
