package schema

import (
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
)

func entsqlGIST() schema.Annotation { return entsql.IndexType("GIST") }
