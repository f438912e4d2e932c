package validate

import "testing"

func TestCompleteCPFMakesValidNumbers(t *testing.T) {
	for _, nine := range []string{"529982247", "111444777", "000000001", "935411347"} {
		c := CompleteCPF(nine)
		if got, err := CPF(c); err != nil || got != c || c[:9] != nine {
			t.Fatalf("CompleteCPF(%s) = %s: %v", nine, c, err)
		}
	}
	if CompleteCPF("529982247") != "52998224725" {
		t.Fatal("known CPF 529.982.247-25 not reproduced")
	}
}
