// Package specialty is the catalogue of medical specialties doctors choose
// from: the Federal Council of Medicine's list (seeded by a migration)
// plus the entries admins add. An entry has a stable code, its official
// Portuguese name and an English name; entries never change, so a code
// means the same specialty for good.
//
// A name typed by someone (a legacy registration, a search) is matched
// against both names without case, accents or extra blanks, by the
// database's specialty_fold, the same function the migration that mapped
// the old free-text values used.
package specialty

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/specialty"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/loader"
	"github.com/healthmed/healthmed/internal/txn"
)

// MaxNameLength bounds a name typed to look an entry up or to add one:
// a doctor's row keeps the name of their entry, in as many characters.
const MaxNameLength = 100

// Catalogue reads and extends the catalogue.
type Catalogue struct {
	Client *ent.Client

	once   sync.Once
	byCode *loader.PerResponse[string, *ent.Specialty]
	known  known
}

func (c *Catalogue) db(ctx context.Context) *ent.Client { return txn.Client(ctx, c.Client) }

// List is the whole catalogue in the order of its Portuguese names.
func (c *Catalogue) List(ctx context.Context) ([]*ent.Specialty, error) {
	db := c.db(ctx)
	all, err := db.Specialty.Query().Order(specialty.ByName(), specialty.ByID()).All(ctx)
	c.keep(db, "", all...)
	return all, err
}

// ByCode is the entry of code, or nil when there is none.
func (c *Catalogue) ByCode(ctx context.Context, code string) (*ent.Specialty, error) {
	if s := c.known.code(code); s != nil {
		return s, nil
	}
	if ent.FromContext(ctx) == nil {
		if s, ok, err := c.batch().Load(ctx, code); ok {
			return s, err
		}
	}
	db := c.db(ctx)
	s, err := ByCode(ctx, db, code)
	c.keep(db, "", s)
	return s, err
}

// ByName is the entry one of whose names reads as name once folded, or
// nil when none does.
func (c *Catalogue) ByName(ctx context.Context, name string) (*ent.Specialty, error) {
	name = strings.TrimSpace(name)
	if s := c.known.name(name); s != nil {
		return s, nil
	}
	db := c.db(ctx)
	s, err := ByName(ctx, db, name)
	c.keep(db, name, s)
	return s, err
}

// keep remembers what db read, found for name when it is not empty, if
// db is the catalogue's own client: an entry read in a mutation's
// transaction is bound to it.
func (c *Catalogue) keep(db *ent.Client, name string, s ...*ent.Specialty) {
	if db == c.Client {
		c.known.keep(name, s...)
	}
}

// WithLoaders prepares one response's batched look-ups: a page of doctors
// reads their specialties in one query.
func (c *Catalogue) WithLoaders(ctx context.Context) context.Context {
	return c.batch().Install(ctx)
}

func (c *Catalogue) batch() *loader.PerResponse[string, *ent.Specialty] {
	c.once.Do(func() {
		c.byCode = loader.NewPerResponse(loader.ByKey(func(ctx context.Context, codes []string) ([]*ent.Specialty, error) {
			s, err := c.Client.Specialty.Query().Where(specialty.CodeIn(codes...)).All(ctx)
			c.known.keep("", s...)
			return s, err
		}, func(s *ent.Specialty) string { return s.Code }))
	})
	return c.byCode
}

// ByCode is the entry of code in client's catalogue, or nil.
func ByCode(ctx context.Context, client *ent.Client, code string) (*ent.Specialty, error) {
	if code == "" || len(code) > MaxCodeLength {
		return nil, nil
	}
	s, err := client.Specialty.Query().Where(specialty.Code(code)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return s, err
}

// ByName is the entry one of whose names reads as name once folded, or
// nil when none does.
func ByName(ctx context.Context, client *ent.Client, name string) (*ent.Specialty, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || len([]rune(name)) > MaxNameLength {
		return nil, nil
	}
	s, err := client.Specialty.Query().Where(NameFolds(name)).Order(specialty.ByID()).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return s, err
}

// NameFolds matches the entries whose Portuguese or English name reads as
// name once folded (the folded-name indexes serve it).
func NameFolds(name string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.Or(
			sql.P(func(b *sql.Builder) {
				b.WriteString("specialty_fold(" + s.C(specialty.FieldName) + ") = specialty_fold(").Arg(name).WriteString(")")
			}),
			sql.P(func(b *sql.Builder) {
				b.WriteString("specialty_fold(" + s.C(specialty.FieldNameEn) + ") = specialty_fold(").Arg(name).WriteString(")")
			}),
		))
	}
}

// Choose is the entry a doctor picks, by code or by a name in either
// language: with both, they must name the same entry. codeField and
// nameField are the input's names for the two, used in refusals.
func Choose(ctx context.Context, client *ent.Client, code, name *string, codeField, nameField string) (*ent.Specialty, error) {
	var byCode, byName *ent.Specialty
	var err error
	if code != nil {
		if byCode, err = ByCode(ctx, client, strings.TrimSpace(*code)); err != nil {
			return nil, err
		}
		if byCode == nil {
			return nil, gqlerr.BadInput(codeField, "%s is not a code of the specialties catalogue", codeField)
		}
	}
	if name != nil {
		if byName, err = ByName(ctx, client, *name); err != nil {
			return nil, err
		}
		if byName == nil {
			return nil, gqlerr.BadInput(nameField, "%s names no specialty of the catalogue (see the specialties query)", nameField)
		}
	}
	switch {
	case byCode != nil && byName != nil && byCode.ID != byName.ID:
		return nil, gqlerr.BadInput(nameField, "%s and %s name different specialties", nameField, codeField)
	case byCode != nil:
		return byCode, nil
	case byName != nil:
		return byName, nil
	}
	return nil, gqlerr.BadInput(nameField, "%s or %s is required", codeField, nameField)
}
