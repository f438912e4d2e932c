-- The doctor search filters by the start of a name and by city, case and
-- accents aside, through specialty_fold (the catalogue's migration). The
-- expressions here are the search's own, so the planner matches them:
-- text_pattern_ops lets a LIKE 'prefix%' read a range of the index
-- whatever the database's collation.
CREATE INDEX "doctors_name_folded" ON "doctors" (specialty_fold("name") text_pattern_ops);
CREATE INDEX "doctors_city_folded" ON "doctors" (specialty_fold("address"->>'city'));
CREATE INDEX "doctors_state" ON "doctors" (("address"->>'state'));
