package db

import (
	"reflect"
	"strings"

	atlasschema "ariga.io/atlas/sql/schema"
	entschema "entgo.io/ent/dialect/sql/schema"
)

// KeepNoDrops removes every drop from the diff. The database holds objects
// Ent does not model (PostGIS's spatial_ref_sys, the hand-written exclusion
// constraints, partial indexes and triggers) and a generated migration must
// never remove them; dropping a column or table is a deliberate,
// hand-written migration.
func KeepNoDrops(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		return withoutDrops(changes), nil
	})
}

func withoutDrops(changes []atlasschema.Change) []atlasschema.Change {
	var keep []atlasschema.Change
	for _, c := range changes {
		if strings.HasPrefix(reflect.TypeOf(c).Elem().Name(), "Drop") {
			continue
		}
		if m, ok := c.(*atlasschema.ModifyTable); ok {
			if m.Changes = withoutDrops(m.Changes); len(m.Changes) == 0 {
				continue
			}
		}
		keep = append(keep, c)
	}
	return keep
}
