// Package seed loads the demo data `make run` shows: a few hundred doctors
// around São Paulo, Rio de Janeiro and Belo Horizonte with open slots, and
// a few patients with known passwords.
package seed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Demo credentials. They exist only in databases this package seeded.
const (
	DemoDoctorPassword  = "demo-doctor-2026"
	DemoPatientPassword = "demo-patient-2026"
	demoDomain          = "@demo.healthmed.dev"
)

// verifiedAt marks the demo accounts' e-mails verified: the seed is the
// operator's own data, so a development provider whose users carry these
// addresses signs in to them.
var verifiedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Login is one demo account, printed when the dev server starts.
type Login struct {
	Role, Login, Password, Name string
}

type city struct {
	name, state string
	center      geo.Point
}

var cities = []city{
	{"São Paulo", "SP", geo.Point{Lat: -23.5505, Lng: -46.6333}},
	{"Rio de Janeiro", "RJ", geo.Point{Lat: -22.9068, Lng: -43.1729}},
	{"Belo Horizonte", "MG", geo.Point{Lat: -19.9167, Lng: -43.9345}},
}

// specialties are English names of the catalogue; the database gives each
// doctor the code of theirs.
var specialties = []string{
	"Cardiology", "Dermatology", "Endocrinology and Metabolism", "Family and Community Medicine", "Gastroenterology",
	"Gynecology and Obstetrics", "Neurology", "Ophthalmology", "Orthopedics and Traumatology", "Pediatrics", "Psychiatry", "Urology",
}

var firstNames = []string{"Ana", "Bruno", "Carla", "Daniel", "Eduarda", "Felipe", "Gabriela", "Henrique",
	"Isabela", "João", "Larissa", "Marcos", "Natália", "Otávio", "Paula", "Rafael", "Sofia", "Thiago"}
var lastNames = []string{"Almeida", "Barbosa", "Cardoso", "Costa", "Ferreira", "Gomes", "Lima", "Martins",
	"Oliveira", "Pereira", "Ribeiro", "Rodrigues", "Santos", "Silva", "Souza"}

// Options size the demo data.
type Options struct {
	DoctorsPerCity int
	Days           int
	Now            time.Time
}

// Run seeds once: when demo doctors already exist it only returns the
// logins.
func Run(ctx context.Context, client *ent.Client, o Options) ([]Login, error) {
	ctx = viewer.SystemContext(ctx)
	if o.DoctorsPerCity == 0 {
		o.DoctorsPerCity = 100
	}
	if o.Days == 0 {
		o.Days = 14
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	patients := demoPatients()
	logins := []Login{{Role: "doctor", Login: crmOf(0, cities[0].state), Password: DemoDoctorPassword, Name: doctorName(0)}}
	for _, p := range patients {
		logins = append(logins, Login{Role: "patient", Login: p.email + " or " + p.cpf, Password: DemoPatientPassword, Name: p.name})
	}
	adm, err := seedAdmin(ctx, client)
	if err != nil {
		return nil, err
	}
	logins = append(logins, adm)
	done, err := client.Doctor.Query().Where(doctor.EmailHasSuffix(demoDomain)).Exist(ctx)
	if err != nil || done {
		return logins, err
	}
	docHash, err := auth.HashPassword(DemoDoctorPassword)
	if err != nil {
		return nil, err
	}
	patHash, err := auth.HashPassword(DemoPatientPassword)
	if err != nil {
		return nil, err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	if err := seedDoctors(ctx, tx.Client(), o, docHash); err != nil {
		return nil, rollback(tx, err)
	}
	for _, p := range patients {
		if err := tx.Patient.Create().SetName(p.name).SetEmail(p.email).SetCpf(p.cpf).
			SetPasswordHash(patHash).SetEmailVerifiedAt(verifiedAt).Exec(ctx); err != nil {
			return nil, rollback(tx, err)
		}
	}
	return logins, tx.Commit()
}

func seedDoctors(ctx context.Context, c *ent.Client, o Options, hash string) error {
	rng := rand.New(rand.NewPCG(2026, 11))
	n := 0
	for _, ct := range cities {
		builders := make([]*ent.DoctorCreate, 0, o.DoctorsPerCity)
		for i := 0; i < o.DoctorsPerCity; i++ {
			rating := math.Round((3.5+rng.Float64()*1.5)*10) / 10
			builders = append(builders, c.Doctor.Create().
				SetName(doctorName(n)).
				SetEmail(fmt.Sprintf("doctor%03d%s", n, demoDomain)).
				SetPasswordHash(hash).SetEmailVerifiedAt(verifiedAt).
				SetVerification(doctor.VerificationVERIFIED).
				SetCrmNumber(strconv.Itoa(100001+n)).SetCrmState(ct.state).
				SetSpecialty(specialties[rng.IntN(len(specialties))]).
				SetPriceCents(15000+500*rng.IntN(50)).
				SetLocation(scatter(rng, ct.center, 25)).
				SetRating(rating).SetRatingCount(5+rng.IntN(200)))
			n++
		}
		docs, err := c.Doctor.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := seedSlots(ctx, c, d, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedSlots opens hourly slots on weekday mornings in the doctor's zone.
func seedSlots(ctx context.Context, c *ent.Client, d *ent.Doctor, o Options) error {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return err
	}
	local := o.Now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	var builders []*ent.SlotCreate
	for i := 1; i <= o.Days; i++ {
		date := day.AddDate(0, 0, i)
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for h := 9; h < 12; h++ {
			start := time.Date(date.Year(), date.Month(), date.Day(), h, 0, 0, 0, loc)
			builders = append(builders, c.Slot.Create().SetDoctorID(d.ID).
				SetStartsAt(start.UTC()).SetEndsAt(start.Add(50*time.Minute).UTC()))
		}
	}
	return c.Slot.CreateBulk(builders...).Exec(ctx)
}

// scatter places a point uniformly within radiusKm of center.
func scatter(rng *rand.Rand, center geo.Point, radiusKm float64) geo.Point {
	r := radiusKm * math.Sqrt(rng.Float64())
	theta := rng.Float64() * 2 * math.Pi
	dLat := r / 111.32 * math.Cos(theta)
	dLng := r / (111.32 * math.Cos(center.Lat*math.Pi/180)) * math.Sin(theta)
	return geo.Point{Lat: center.Lat + dLat, Lng: center.Lng + dLng}
}

func doctorName(n int) string {
	return "Dr. " + firstNames[n%len(firstNames)] + " " + lastNames[(n/len(firstNames))%len(lastNames)]
}

func crmOf(n int, state string) string { return strconv.Itoa(100001+n) + "/" + state }

type demoPatient struct{ name, email, cpf string }

func demoPatients() []demoPatient {
	return []demoPatient{
		{"Maria Oliveira", "maria" + demoDomain, validate.CompleteCPF("529982247")},
		{"José Santos", "jose" + demoDomain, validate.CompleteCPF("111444777")},
		{"Luiza Pereira", "luiza" + demoDomain, validate.CompleteCPF("935411347")},
	}
}

func rollback(tx *ent.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil {
		return fmt.Errorf("%w (rollback: %v)", err, rerr)
	}
	return err
}
