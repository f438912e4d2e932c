package validate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantFieldError fails unless err is a *FieldError for field.
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("Field = %q, want %q", fe.Field, field)
	}
	if fe.Message == "" || fe.Error() != fe.Message {
		t.Errorf("Message = %q, Error() = %q", fe.Message, fe.Error())
	}
}

func TestCPF(t *testing.T) {
	// Check digits computed independently, with the "sum times 10 modulo
	// 11" form of the rule.
	valid := []struct{ in, want string }{
		{"123.456.789-09", "12345678909"},
		{"12345678909", "12345678909"},
		{"529.982.247-25", "52998224725"},
		{" 529 982 247 25 ", "52998224725"},
		{"111.444.777-35", "11144477735"},
		{"935.411.347-80", "93541134780"},
		{"987.654.321-00", "98765432100"},
		{"390.533.447-05", "39053344705"},
		{"000.000.001-91", "00000000191"},
		{"100.000.000-19", "10000000019"},
		{"012.345.678-90", "01234567890"},
		{"012345678-90", "01234567890"},
		{"\t39053344705\n", "39053344705"},
	}
	for _, tc := range valid {
		got, err := CPF(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CPF(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}

	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"first check digit wrong", "123.456.789-19"},
		{"second check digit wrong", "123.456.789-08"},
		{"both check digits wrong", "529.982.247-52"},
		{"digits transposed", "259.982.247-25"},
		{"ten digits", "1234567890"},
		{"twelve digits", "123456789090"},
		{"nine digits", "123.456.789"},
		{"letters", "123.456.789-0a"},
		{"slash", "123.456.789/09"},
		{"plus sign", "+12345678909"},
		{"full-width digits", "１２３４５６７８９０９"},
		{"arabic-indic digits", "١٢٣٤٥٦٧٨٩٠٩"},
	}
	for d := '0'; d <= '9'; d++ {
		same := strings.Repeat(string(d), 11)
		invalid = append(invalid,
			struct{ name, in string }{"all " + string(d), same},
			struct{ name, in string }{"all " + string(d) + " punctuated", same[:3] + "." + same[3:6] + "." + same[6:9] + "-" + same[9:]})
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CPF(tc.in)
			if err == nil {
				t.Fatalf("CPF(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("CPF(%q) returned %q with its error", tc.in, got)
			}
			wantFieldError(t, err, "cpf")
		})
	}
}

// TestCPFCheckDigitsExhaustive checks that, for some bases, exactly one
// pair of check digits out of the hundred is accepted.
func TestCPFCheckDigitsExhaustive(t *testing.T) {
	for _, base := range []string{"123456789", "529982247", "000000001", "987654321", "314159265"} {
		accepted := 0
		for cd := 0; cd < 100; cd++ {
			if _, err := CPF(fmt.Sprintf("%s%02d", base, cd)); err == nil {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("base %s: %d check-digit pairs accepted, want 1", base, accepted)
		}
	}
}

func TestCRM(t *testing.T) {
	valid := []struct{ in, number, state string }{
		{"123456/SP", "123456", "SP"},
		{"123456-SP", "123456", "SP"},
		{"123456 SP", "123456", "SP"},
		{"123456 / SP", "123456", "SP"},
		{"CRM-SP 123456", "123456", "SP"},
		{"CRM/SP 123456", "123456", "SP"},
		{"CRM SP 123456", "123456", "SP"},
		{"CRM-SP-123456", "123456", "SP"},
		{"CRM 123456/SP", "123456", "SP"},
		{"CRM/RJ 52123", "52123", "RJ"},
		{"crm-mg 98765", "98765", "MG"},
		{"123456/sp", "123456", "SP"},
		{"123456/Sp", "123456", "SP"},
		{"  123456/SP  ", "123456", "SP"},
		{"SP 123456", "123456", "SP"},
		{"SP/123456", "123456", "SP"},
		{"1/AC", "1", "AC"},
		{"12345678/TO", "12345678", "TO"},
		{"000123/DF", "123", "DF"},
		{"0012345678/SP", "12345678", "SP"},
	}
	for _, tc := range valid {
		number, state, err := CRM(tc.in)
		if err != nil || number != tc.number || state != tc.state {
			t.Errorf("CRM(%q) = %q, %q, %v; want %q, %q", tc.in, number, state, err, tc.number, tc.state)
		}
	}

	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "  "},
		{"prefix only", "CRM"},
		{"no state", "123456"},
		{"CRM without state", "CRM 123456"},
		{"no number", "/SP"},
		{"CRM without number", "CRM-SP"},
		{"unknown UF", "123456/XX"},
		{"country code", "123456/BR"},
		{"three letters", "123456/SPX"},
		{"one letter", "123456/S"},
		{"nine digits", "123456789/SP"},
		{"zero", "0/SP"},
		{"zeros", "0000/SP"},
		{"two numbers", "123/456/SP"},
		{"two states", "123456/SP/RJ"},
		{"letters in number", "12a456/SP"},
		{"digits glued to state", "123456SP"},
		{"state glued to number", "CRM-SP123456"},
		{"dot separator", "123456.SP"},
		{"decimal number", "123.456/SP"},
		{"negative", "-123456/SP"},
		{"leading slash", "/123456/SP"},
		{"trailing slash", "123456/SP/"},
		{"trailing hyphen", "CRM-SP 123456-"},
		{"prefix glued to state", "CRMSP 123456"},
		{"accented state", "123456/SÃ"},
		{"full-width digits", "１２３/SP"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			number, state, err := CRM(tc.in)
			if err == nil {
				t.Fatalf("CRM(%q) = %q, %q, want an error", tc.in, number, state)
			}
			if number != "" || state != "" {
				t.Errorf("CRM(%q) returned %q, %q with its error", tc.in, number, state)
			}
			wantFieldError(t, err, "crm")
		})
	}
}

func TestCRMEveryUF(t *testing.T) {
	all := "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO"
	ufList := strings.Fields(all)
	if len(ufList) != 27 || len(ufs) != 27 {
		t.Fatalf("want 27 UFs, have %d, table %d", len(ufList), len(ufs))
	}
	for uf := range ufs {
		if !strings.Contains(all, uf) {
			t.Errorf("the table has unexpected %q", uf)
		}
	}
	for _, uf := range ufList {
		for _, in := range []string{
			"123456/" + uf,
			"123456-" + strings.ToLower(uf),
			"CRM-" + uf + " 123456",
			"CRM/" + strings.ToLower(uf) + " 123456",
		} {
			number, state, err := CRM(in)
			if err != nil || number != "123456" || state != uf {
				t.Errorf("CRM(%q) = %q, %q, %v", in, number, state, err)
			}
		}
		if got := FormatCRM("123456", uf); got != "123456/"+uf {
			t.Errorf("FormatCRM(123456, %s) = %q", uf, got)
		}
	}
	// Every other pair of letters is refused.
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			uf := string([]rune{a, b})
			_, _, err := CRM("123456/" + uf)
			if known := strings.Contains(" "+all+" ", " "+uf+" "); known != (err == nil) {
				t.Errorf("CRM(123456/%s): err = %v, want accepted = %v", uf, err, known)
			}
		}
	}
}

func TestFormatCRMRoundTrip(t *testing.T) {
	for _, in := range []string{"CRM-SP 0123456", "crm/rj 42", "7-ba"} {
		number, state, err := CRM(in)
		if err != nil {
			t.Fatalf("CRM(%q): %v", in, err)
		}
		canon := FormatCRM(number, state)
		n2, s2, err := CRM(canon)
		if err != nil || n2 != number || s2 != state || FormatCRM(n2, s2) != canon {
			t.Errorf("%q -> %q -> %q, %q, %v", in, canon, n2, s2, err)
		}
	}
	if got := FormatCRM("42", "rj"); got != "42/RJ" {
		t.Errorf("FormatCRM(42, rj) = %q", got)
	}
}

func TestEmail(t *testing.T) {
	valid := []struct{ in, want string }{
		{"ana@example.com", "ana@example.com"},
		{"  Ana.Souza@Example.COM.br  ", "ana.souza@example.com.br"},
		{"ana+consultas@clinica.med.br", "ana+consultas@clinica.med.br"},
		{"a_b-c@sub-domain.example.org", "a_b-c@sub-domain.example.org"},
		{"joão@example.com.br", "joão@example.com.br"},
		{"ana@médico.com.br", "ana@médico.com.br"},
		{"ana@123.example.com", "ana@123.example.com"},
	}
	for _, tc := range valid {
		got, err := Email(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".br"
	if len(long) != 254 {
		t.Fatalf("len(long) = %d", len(long))
	}
	if got, err := Email(long); err != nil || got != long {
		t.Errorf("254-byte address: %q, %v", got, err)
	}

	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"no at", "ana.example.com"},
		{"no local part", "@example.com"},
		{"no domain", "ana@"},
		{"dotless domain", "ana@localhost"},
		{"display name", "Ana <ana@example.com>"},
		{"quoted display name", `"Ana Souza" <ana@example.com>`},
		{"angle brackets", "<ana@example.com>"},
		{"comment", "ana@example.com (Ana)"},
		{"two addresses", "ana@example.com, bia@example.com"},
		{"two ats", "ana@bia@example.com"},
		{"space inside", "ana souza@example.com"},
		{"quoted local part", `"ana souza"@example.com`},
		{"address literal", "ana@[192.168.0.1]"},
		{"trailing dot", "ana@example.com."},
		{"double dot in domain", "ana@example..com"},
		{"leading dot in domain", "ana@.example.com"},
		{"too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 59) + ".br"},
		{"newline inside", "ana@exam\nple.com"},
		{"dot ending local part", "ana.@example.com"},
		{"double dot in local part", "ana..souza@example.com"},
		{"hyphen starting label", "ana@-example.com"},
		{"hyphen ending label", "ana@example-.com"},
		{"underscore in domain", "ana@exa_mple.com"},
		{"label too long", "ana@" + strings.Repeat("b", 64) + ".com"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Email(tc.in)
			if err == nil {
				t.Fatalf("Email(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("Email(%q) returned %q with its error", tc.in, got)
			}
			wantFieldError(t, err, "email")
		})
	}
}

func TestTimezone(t *testing.T) {
	valid := []struct{ in, want string }{
		{"", DefaultTimezone},
		{"   ", DefaultTimezone},
		{"America/Sao_Paulo", "America/Sao_Paulo"},
		{" America/Manaus ", "America/Manaus"},
		{"America/Noronha", "America/Noronha"},
		{"America/Rio_Branco", "America/Rio_Branco"},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"Europe/Lisbon", "Europe/Lisbon"},
		{"Etc/GMT+3", "Etc/GMT+3"},
		{"UTC", "UTC"},
	}
	for _, tc := range valid {
		got, err := Timezone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Timezone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if DefaultTimezone != "America/Sao_Paulo" {
		t.Errorf("DefaultTimezone = %q", DefaultTimezone)
	}

	invalid := []string{
		"Local",
		"localtime",
		"posixrules",
		"america/sao_paulo",
		"America/Sao Paulo",
		"America/Brasilia",
		"Mars/Olympus_Mons",
		"-03:00",
		"GMT-3",
		"../../etc/passwd",
		"/etc/localtime",
		"America/../Europe/Lisbon",
		"America//Sao_Paulo",
		"America/",
		strings.Repeat("A", 65),
	}
	for _, in := range invalid {
		t.Run(in, func(t *testing.T) {
			got, err := Timezone(in)
			if err == nil {
				t.Fatalf("Timezone(%q) = %q, want an error", in, got)
			}
			if got != "" {
				t.Errorf("Timezone(%q) returned %q with its error", in, got)
			}
			wantFieldError(t, err, "timezone")
		})
	}
}

func TestField(t *testing.T) {
	if Field("x", nil) != nil {
		t.Error("Field(x, nil) is not nil")
	}

	_, err := CPF("123")
	relabelled := Field("login", err)
	wantFieldError(t, relabelled, "login")
	wantFieldError(t, err, "cpf") // the original is left alone
	if relabelled.Error() != err.Error() {
		t.Errorf("message changed: %q -> %q", err, relabelled)
	}

	plain := Field("name", errors.New("name is required"))
	wantFieldError(t, plain, "name")
	if plain.Error() != "name is required" {
		t.Errorf("Error() = %q", plain.Error())
	}

	wrapped := Field("crm", fmt.Errorf("doctor: %w", &FieldError{Field: "inner", Message: "bad"}))
	wantFieldError(t, wrapped, "crm")
	if wrapped.Error() != "doctor: bad" {
		t.Errorf("Error() = %q", wrapped.Error())
	}

	var fe *FieldError
	if !errors.As(fmt.Errorf("context: %w", relabelled), &fe) || fe.Field != "login" {
		t.Errorf("errors.As through wrapping: %v", fe)
	}
}
