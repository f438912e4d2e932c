package validate

import "unicode"

// CPF checks a Cadastro de Pessoas Físicas number and returns its 11 bare
// digits. Dots, hyphens and white space are ignored, so "123.456.789-09"
// and "12345678909" are the same CPF; any other character is refused. Both
// check digits must match, and the eleven sequences of one repeated digit
// (000.000.000-00 to 999.999.999-99), which pass the check-digit test but
// are not issued, are refused.
func CPF(s string) (digits string, err error) {
	var d [11]byte
	n := 0
	for _, r := range s {
		switch {
		case r == '.' || r == '-' || unicode.IsSpace(r):
			continue
		case r >= '0' && r <= '9':
			if n == len(d) {
				return "", fieldErr("cpf", "CPF must have 11 digits")
			}
			d[n] = byte(r)
			n++
		default:
			return "", fieldErr("cpf", "CPF may contain only digits, dots, hyphens and spaces")
		}
	}
	if n != len(d) {
		return "", fieldErr("cpf", "CPF must have 11 digits")
	}
	allEqual := true
	for _, c := range d[1:] {
		if c != d[0] {
			allEqual = false
			break
		}
	}
	if allEqual {
		return "", fieldErr("cpf", "CPF is not valid")
	}
	if cpfCheckDigit(d[:9]) != d[9] || cpfCheckDigit(d[:10]) != d[10] {
		return "", fieldErr("cpf", "CPF check digits do not match")
	}
	return string(d[:]), nil
}

// cpfCheckDigit computes the check digit that follows the ASCII digits in
// d (9 of them for the first check digit, 10 for the second): weights run
// from len(d)+1 down to 2, and the digit is 11 minus the sum modulo 11, or
// 0 when that is 10 or 11.
func cpfCheckDigit(d []byte) byte {
	sum := 0
	for i, c := range d {
		sum += int(c-'0') * (len(d) + 1 - i)
	}
	r := 11 - sum%11
	if r >= 10 {
		r = 0
	}
	return byte('0' + r)
}

// CompleteCPF appends the two check digits to nine digits, for demo data
// and tests that need valid CPFs.
func CompleteCPF(nine string) string {
	d := []byte(nine)
	d = append(d, cpfCheckDigit(d))
	return string(append(d, cpfCheckDigit(d)))
}
