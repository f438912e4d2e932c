// Package address holds a Brazilian postal address as the doctor's profile
// shows it and an appointment keeps it. It sits below Ent, so a schema can
// store the type as it is.
package address

// Address is where a doctor sees patients in person. Every field is
// required; PostalCode is a CEP written 00000-000 and State a federative
// unit's two letters.
type Address struct {
	Street     string `json:"street"`
	Number     string `json:"number"`
	District   string `json:"district"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postalCode"`
}
