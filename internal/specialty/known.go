package specialty

import (
	"sync"

	"github.com/healthmed/healthmed/ent"
)

// maxKnownNames bounds the typed names a replica remembers: anyone can
// type a name, and the ways of writing one entry's (case, accents) are
// endless.
const maxKnownNames = 1024

// known is what this replica has read of the catalogue. Entries are never
// changed nor removed, so an entry found stays the answer for its code and
// for a name that matched it, on every replica, with nothing to
// invalidate: a search by specialty and a page of doctors' specialties
// cost no query once their entries have been read. A look-up that finds
// nothing is not remembered: createSpecialty, on any replica, may add the
// entry at any time.
//
// Only entries read through the catalogue's own client are kept: one read
// in a mutation's transaction is bound to it.
type known struct {
	mu     sync.RWMutex
	byCode map[string]*ent.Specialty
	byName map[string]*ent.Specialty
}

func (k *known) code(code string) *ent.Specialty {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byCode[code]
}

func (k *known) name(name string) *ent.Specialty {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byName[name]
}

// keep remembers s, found for the typed name when name is not empty.
func (k *known) keep(name string, s ...*ent.Specialty) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byCode == nil {
		k.byCode, k.byName = map[string]*ent.Specialty{}, map[string]*ent.Specialty{}
	}
	for _, e := range s {
		if e == nil {
			continue
		}
		k.byCode[e.Code] = e
		if name != "" && len(k.byName) < maxKnownNames {
			k.byName[name] = e
		}
	}
}
