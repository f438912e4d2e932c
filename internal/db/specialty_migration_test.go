package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/healthmed/healthmed/internal/db"
)

// TestSpecialtyMigrationMapsFreeText: doctors registered with a free-text
// specialty before the catalogue get the code of the entry their text
// names in either language, case, accents and blanks aside; a text that
// names none keeps an empty code, and every text stays as typed. Rows
// written afterwards by writers that only know the text get the same
// mapping.
func TestSpecialtyMigrationMapsFreeText(t *testing.T) {
	d := emptyDB(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.MigrateBefore(ctx, d, log, "20261204165433"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Cardiology":                "cardiologia",
		"  cardiologia ":            "cardiologia",
		"DERMATOLOGIA":              "dermatologia",
		"Clínica Médica":            "clinica-medica",
		"clinica medica":            "clinica-medica",
		"internal   medicine":       "clinica-medica",
		"Ginecologia e Obstetrícia": "ginecologia-e-obstetricia",
		"Otorrinolaringología":      "otorrinolaringologia",
		"Cardio":                    "",
		"General Practice":          "",
		"Clínica geral":             "",
	}
	n := 0
	for text := range want {
		n++
		insertDoctor(t, d, n, text)
	}
	if err := db.Migrate(ctx, d, log); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		rows, err := d.Query(`SELECT specialty, coalesce(specialty_code, '') FROM doctors`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := 0
		for rows.Next() {
			var text, code string
			if err := rows.Scan(&text, &code); err != nil {
				t.Fatal(err)
			}
			w, ok := want[text]
			if !ok {
				t.Fatalf("%s: a text changed: %q", when, text)
			}
			if code != w {
				t.Errorf("%s: %q got code %q, want %q", when, text, code, w)
			}
			got++
		}
		if got != len(want) {
			t.Fatalf("%s: %d doctors, want %d", when, got, len(want))
		}
	}
	check("after the migration")

	// A bulk load after it that writes only the text is mapped the same.
	if _, err := d.Exec(`DELETE FROM doctors`); err != nil {
		t.Fatal(err)
	}
	for text := range want {
		n++
		insertDoctor(t, d, n, text)
	}
	check("a row written later without a code")
	// A text changed without its code follows the text.
	if _, err := d.Exec(`UPDATE doctors SET specialty = 'Pediatrics' WHERE specialty = 'Cardio'`); err != nil {
		t.Fatal(err)
	}
	var code string
	if err := d.QueryRow(`SELECT specialty_code FROM doctors WHERE specialty = 'Pediatrics'`).Scan(&code); err != nil || code != "pediatria" {
		t.Fatalf("after the text changed: %q %v", code, err)
	}
	// A code must name an entry.
	if _, err := d.Exec(`UPDATE doctors SET specialty_code = 'nope' WHERE specialty = 'Pediatrics'`); err == nil {
		t.Fatal("a doctor took a code the catalogue does not have")
	}
}

func insertDoctor(t *testing.T, d *sql.DB, n int, specialty string) {
	t.Helper()
	_, err := d.Exec(`INSERT INTO doctors (created_at, updated_at, name, email, password_hash, crm_number,
		crm_state, specialty, price_cents, location)
		VALUES (now(), now(), $1, $2, '!', $3, 'SP', $4, 100, 'SRID=4326;POINT(-46.6 -23.5)')`,
		fmt.Sprintf("Dr. %d", n), fmt.Sprintf("d%d@example.com", n), fmt.Sprint(n), specialty)
	if err != nil {
		t.Fatal(err)
	}
}
