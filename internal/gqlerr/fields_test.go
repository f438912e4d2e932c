package gqlerr

import (
	"errors"
	"slices"
	"testing"

	"github.com/healthmed/healthmed/internal/validate"
)

func TestFieldsNamesEveryBadFieldInOrder(t *testing.T) {
	boom := errors.New("database down")
	for _, tc := range []struct {
		name   string
		errs   []error
		fields []string
		field  string
		other  error
	}{
		{"all good", []error{nil, nil}, nil, "", nil},
		{"one", []error{nil, BadInput("cpf", "bad cpf")}, []string{"cpf"}, "cpf", nil},
		{"several, a validator's among them", []error{BadInput("name", "blank"), nil,
			validate.Field("email", errors.New("not an address")), BadInput("password", "short")},
			[]string{"name", "email", "password"}, "name", nil},
		{"an error not about a field wins", []error{BadInput("name", "blank"), boom}, nil, "", boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Fields
			for _, err := range tc.errs {
				f.Add(err)
			}
			err := f.Err()
			switch {
			case tc.other != nil:
				if err != tc.other {
					t.Fatalf("err %v, want %v", err, tc.other)
				}
				return
			case tc.fields == nil:
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != BadUserInput || e.Field != tc.field || !slices.Equal(e.AllFields(), tc.fields) {
				t.Fatalf("got %+v, want fields %v", err, tc.fields)
			}
		})
	}
}
