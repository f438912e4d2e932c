-- PostGIS for the doctors' locations and btree_gist for the exclusion
-- constraints that keep one doctor's slots from overlapping.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
