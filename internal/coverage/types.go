package coverage

// InsurancePlanInput is the GraphQL input of the same name (gqlgen.yml
// binds it), so the API layer depends on the domain and not the reverse.
type InsurancePlanInput struct {
	// The operator's code as the coverage API knows it, e.g. "unimed".
	Operator string `json:"operator"`
	// 8 to 20 digits; spaces, dots and dashes are ignored. Stored encrypted.
	CardNumber string  `json:"cardNumber"`
	PlanName   *string `json:"planName,omitempty"`
}
