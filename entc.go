//go:build ignore

// entc.go runs Ent's code generator with the GraphQL extension. It lives at
// the module root so every run sees the same paths (see generate.go).
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/internal/reaction"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./graph/ent.graphqls"),
		entgql.WithWhereInputs(false),
		entgql.WithNodeDescriptor(false),
		entgql.WithSchemaHook(publicNodeLookups),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/healthmed/healthmed/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureGlobalID,
			gen.FeatureVersionedMigration,
			gen.FeatureModifier,
			gen.FeatureLock,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex),
		// Client.Slot.Attach, for the slot the doctor search joins.
		entc.TemplateFiles("./ent/schema/template/attach.tmpl"),
		// Doctor.distanceKm and Doctor.rating, resolved in line.
		entc.TemplateFiles("./ent/schema/template/doctorfields.tmpl"),
		// What the schema's reactions (Hooks) need from the running
		// server reaches every mutation through its client.
		entc.Dependency(entc.DependencyName("Reactions"), entc.DependencyType(&reaction.Deps{})),
	)
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// publicNodeLookups marks node and nodes as callable by anyone, as
// schema.graphqls declares every other root field's callers: the privacy
// policies decide which objects they return.
func publicNodeLookups(_ *gen.Graph, s *ast.Schema) error {
	q := s.Types["Query"]
	if q == nil {
		return nil
	}
	for _, f := range q.Fields {
		if f.Name == "node" || f.Name == "nodes" {
			f.Directives = append(f.Directives, &ast.Directive{Name: "public"})
		}
	}
	return nil
}
