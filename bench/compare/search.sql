-- The doctor search as a PostGraphile user writes it: one SQL function in
-- a schema of its own, exposed as Query.searchDoctors. It answers the
-- benchmark's question the way healthmed does: one specialty, nearest
-- first from the GiST index on (specialty, location), within a radius,
-- with the distance and each doctor's next free slot.
DROP SCHEMA IF EXISTS compare CASCADE;
CREATE SCHEMA compare;

CREATE TYPE compare.doctor_hit AS (
  id bigint,
  name text,
  specialty text,
  price_cents bigint,
  rating double precision,
  distance_km double precision,
  next_slot_id bigint,
  next_slot_starts_at timestamptz
);

CREATE FUNCTION compare.search_doctors(lat double precision, lng double precision, km double precision, spec text, n integer)
RETURNS SETOF compare.doctor_hit AS $$
  SELECT d.id, d.name, d.specialty, d.price_cents, d.rating, d.dist / 1000, s.id, s.starts_at
  FROM (
    SELECT id, name, specialty, price_cents, rating,
           location <-> ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography AS dist
    FROM public.doctors
    WHERE specialty = spec
    ORDER BY location <-> ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography
    LIMIT n
  ) d
  LEFT JOIN LATERAL (
    SELECT n.id, n.starts_at FROM public.slots n
    WHERE n.doctor_id = d.id AND n.deleted_at IS NULL AND n.starts_at > now()
      AND NOT EXISTS (SELECT 1 FROM public.appointments a WHERE a.slot_id = n.id AND a.status IN ('REQUESTED', 'ACCEPTED'))
    ORDER BY n.starts_at LIMIT 1
  ) s ON true
  WHERE d.dist <= km * 1000
  ORDER BY d.dist, d.id
$$ LANGUAGE sql STABLE;
