package search

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/scalar"
)

// NextFreeAtColumn is the start of the doctor's next free slot in a
// search ordered by it, exactly as the cursor compares it.
const NextFreeAtColumn = "next_free_at"

// freeSlot writes that the slot under alias is free: not withdrawn, still
// ahead, with no request or booking on it (what nextFreeSlot shows).
func freeSlot(b *sql.Builder, alias string, now time.Time) {
	b.WriteString(alias + ".deleted_at IS NULL AND " + alias + ".starts_at > ").Arg(now).
		WriteString(" AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = " + alias + ".id" +
			" AND a.status IN ('REQUESTED', 'ACCEPTED'))")
}

// hasFreeSlot matches the doctors with a free slot ahead.
func hasFreeSlot(now time.Time) predicate.Doctor { return hasFreeSlotBefore(now, time.Time{}) }

// hasFreeSlotBefore matches the doctors with a free slot ahead that starts
// before until (any, when until is zero). The doctor's slots are read by
// the slots' (doctor_id, starts_at) index.
func hasFreeSlotBefore(now, until time.Time) predicate.Doctor {
	return func(s *sql.Selector) {
		id := s.C(doctor.FieldID)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM slots x WHERE x.doctor_id = " + id + " AND ")
			freeSlot(b, "x", now)
			if !until.IsZero() {
				b.WriteString(" AND x.starts_at < ").Arg(until)
			}
			b.WriteString(")")
		}))
	}
}

// byNextFreeSlot pages through the doctors with a free slot ahead, the
// soonest first, then by id. The statement is driven by the free slots in
// time order (the partial index on slots' start), each joined to its
// doctor when it is that doctor's first free slot: a page stops at its
// LIMIT instead of computing every doctor's next slot and sorting them.
// Doctors with no free slot are not listed in this order.
func byNextFreeSlot(ctx context.Context, client *ent.Client, q *ent.DoctorQuery, preds []predicate.Doctor, a DoctorArgs, first int) (*ent.DoctorConnection, error) {
	now := clock.UTC(a.Now)
	preds = showDistance(q, preds, a)
	total, err := totalCount(ctx, client, append(preds, hasFreeSlot(now)), a.CountTotal)
	if err != nil {
		return nil, err
	}
	conn := &ent.DoctorConnection{TotalCount: total}
	q.Select(columnsFor(a.Fields)...)
	q.Modify(func(s *sql.Selector) {
		id := s.C(doctor.FieldID)
		ns := sql.Table("slots").As("ns")
		s.Join(ns).OnP(sql.P(func(b *sql.Builder) {
			b.WriteString("ns.doctor_id = " + id + " AND ")
			freeSlot(b, "ns", now)
			b.WriteString(" AND NOT EXISTS (SELECT 1 FROM slots e WHERE e.doctor_id = ns.doctor_id AND e.starts_at < ns.starts_at AND ")
			freeSlot(b, "e", now)
			b.WriteString(")")
		}))
		if a.After != nil {
			at, after := a.After.Value.(time.Time), a.After.ID
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString("(ns.starts_at, ns.doctor_id) > (").Arg(at).WriteString(", ").Arg(after).WriteString(")")
			}))
		}
		s.AppendSelectExprAs(sql.Expr("ns.starts_at"), NextFreeAtColumn)
		// ns.doctor_id is the doctor's id: ordering by the slot's column
		// lets the index give the whole order.
		s.OrderExpr(sql.Expr("ns.starts_at, ns.doctor_id"))
	})
	nodes, err := q.Limit(first + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	fillPage(conn, nodes, first, a.After, func(_ int, n *ent.Doctor) scalar.Cursor {
		v, _ := n.Value(NextFreeAtColumn)
		at, _ := v.(time.Time)
		return scalar.Cursor{ID: n.ID, Value: at.UTC()}
	})
	return conn, nil
}
