package notify

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
)

// Message is one e-mail, ready for a Mailer.
type Message struct {
	// NotificationID is the outbox row the message delivers.
	NotificationID int
	// MessageID is derived from NotificationID, so every (re-)send of
	// one notification carries the same one.
	MessageID string
	From      mail.Address
	To        string
	Subject   string
	// Body is plain text; Bytes encodes it.
	Body string
	// Date is when the notification was made, not when it was sent, so a
	// re-send is byte for byte the same message.
	Date time.Time
}

// MessageIDFor is the Message-ID of a notification's e-mail.
func MessageIDFor(notificationID int, domain string) string {
	return fmt.Sprintf("<notification-%d@%s>", notificationID, domain)
}

// Bytes renders the message (RFC 5322, MIME, quoted-printable UTF-8 text)
// with CRLF line ends.
func (m *Message) Bytes() ([]byte, error) {
	for _, v := range []string{m.To, m.Subject, m.MessageID, m.From.Address, m.From.Name} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("notify: line break in a header value")
		}
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.From.String())
	h("To", (&mail.Address{Address: m.To}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", m.Date.UTC().Format(time.RFC1123Z))
	h("Message-ID", m.MessageID)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation replies to an automatic message.
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// content is everything a message may say. Deliberately nothing clinical:
// no specialty, no reason, no file, category or tag, not even who the
// patient is.
type content struct {
	Kind     notification.Kind
	ToDoctor bool
	// DoctorName is the doctor of the consultation.
	DoctorName string
	// StartsAt is the consultation's start, shown in Zone.
	StartsAt time.Time
	Zone     *time.Location
	// MeetingURL is the recipient's own link to the video room.
	MeetingURL string
	// ShareUntil is when a record share expires.
	ShareUntil time.Time
	// Link is an account link (verification, reset), valid until
	// LinkUntil.
	Link      string
	LinkUntil time.Time
	// HeldUntil is when a slot held for a waitlisted patient is let go.
	HeldUntil time.Time
	// ProposedAt is the start of the slot the doctor proposed instead.
	ProposedAt time.Time
}

// compose writes a message's subject and text, in Brazilian Portuguese
// like the rest of what users read.
func compose(c content) (subject, body string) {
	when := formatWhen(c.StartsAt, c.Zone)
	link := ""
	if c.MeetingURL != "" {
		link = "\n\nLink da teleconsulta: " + c.MeetingURL
	}
	var text string
	switch c.Kind {
	case notification.KindBOOKING_REQUESTED:
		subject = "Nova solicitação de teleconsulta"
		text = "Você recebeu uma solicitação de teleconsulta para " + when + ".\n\n" +
			"Abra o healthmed para aceitar ou recusar."
	case notification.KindBOOKING_ACCEPTED:
		subject = "Teleconsulta confirmada"
		text = "Sua teleconsulta com " + c.DoctorName + " em " + when + " foi confirmada." + link
	case notification.KindBOOKING_REJECTED:
		subject = "Solicitação de teleconsulta não aceita"
		text = "Sua solicitação de teleconsulta com " + c.DoctorName + " para " + when + " não foi aceita.\n\n" +
			"Você pode escolher outro horário no healthmed."
	case notification.KindBOOKING_CANCELLED:
		subject = "Teleconsulta cancelada"
		if c.ToDoctor {
			text = "A teleconsulta de " + when + " foi cancelada. O horário está livre novamente."
		} else {
			text = "Sua teleconsulta com " + c.DoctorName + " em " + when + " foi cancelada."
		}
	case notification.KindBOOKING_RESCHEDULED:
		subject = "Teleconsulta remarcada"
		if c.ToDoctor {
			text = "Uma teleconsulta da sua agenda foi remarcada para " + when + ". O horário anterior está livre novamente."
		} else {
			text = "Sua teleconsulta com " + c.DoctorName + " foi remarcada para " + when + "." + link
		}
	case notification.KindRESCHEDULE_PROPOSED:
		subject = "Proposta de novo horário para sua teleconsulta"
		text = c.DoctorName + " propõe remarcar sua teleconsulta de " + when + " para " +
			formatWhen(c.ProposedAt, c.Zone) + ".\n\nAbra o healthmed para aceitar ou recusar."
	case notification.KindRESCHEDULE_DECLINED:
		subject = "Novo horário não aceito"
		text = "O paciente preferiu manter a teleconsulta de " + when + "."
	case notification.KindWAITLIST_OFFERED:
		subject = "Um horário foi liberado para você"
		text = "Abriu um horário com " + c.DoctorName + " em " + when + ", reservado para você até " +
			formatWhen(c.HeldUntil, c.Zone) + ".\n\nAbra o healthmed para agendar antes que ele passe para o próximo da lista."
	case notification.KindREMINDER_24H, notification.KindREMINDER_1H:
		subject = "Lembrete: teleconsulta em " + when
		if c.Kind == notification.KindREMINDER_1H {
			subject = "Sua teleconsulta começa em breve"
		}
		if c.ToDoctor {
			text = "Você tem uma teleconsulta em " + when + "." + link
		} else {
			text = "Sua teleconsulta com " + c.DoctorName + " é em " + when + "." + link
		}
	case notification.KindSHARE_CREATED:
		subject = "Prontuário compartilhado com você"
		text = "Um paciente compartilhou parte do prontuário com você, com acesso até " +
			formatWhen(c.ShareUntil, c.Zone) + ".\n\nVeja os detalhes no healthmed."
	case notification.KindSHARE_REVOKED:
		subject = "Compartilhamento de prontuário encerrado"
		text = "Um paciente encerrou um compartilhamento de prontuário com você.\n\n" +
			"Veja os detalhes no healthmed."
	case notification.KindEMAIL_VERIFICATION:
		subject = "Confirme seu e-mail no healthmed"
		text = "Para confirmar este endereço de e-mail no healthmed, abra o link abaixo até " +
			formatWhen(c.LinkUntil, c.Zone) + ":\n\n" + c.Link + "\n\n" +
			"Se não foi você que pediu, ignore esta mensagem: nada será feito."
	case notification.KindPASSWORD_RESET:
		subject = "Redefinição de senha do healthmed"
		text = "Recebemos um pedido para redefinir a senha da sua conta no healthmed. " +
			"Para escolher uma nova senha, abra o link abaixo até " + formatWhen(c.LinkUntil, c.Zone) +
			"; ele vale uma vez só:\n\n" + c.Link + "\n\n" +
			"Ao redefinir, todas as sessões abertas da conta são encerradas. " +
			"Se não foi você que pediu, ignore esta mensagem: sua senha continua a mesma."
	case notification.KindREGISTRATION_ATTEMPT:
		subject = "Tentativa de cadastro com os seus dados"
		text = "Alguém tentou criar uma conta no healthmed com o seu e-mail ou o seu documento (CPF ou CRM). " +
			"Nenhuma conta nova foi criada e a sua não mudou.\n\n" +
			"Se foi você, entre com a sua senha ou peça a redefinição dela no healthmed."
	default:
		subject, text = "Aviso do healthmed", "Há um novo aviso para você no healthmed."
	}
	body = "Olá,\n\n" + text + "\n\n-- \nhealthmed: mensagem automática, não responda.\n"
	return subject, body
}

var (
	weekdays = [...]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"}
)

// formatWhen writes a moment the way Brazilians read it, in the zone of
// the doctor's agenda, with the zone named: "segunda-feira, 04/01/2027,
// às 09:00 (America/Sao_Paulo)".
func formatWhen(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return fmt.Sprintf("%s, %s, às %s (%s)", weekdays[t.Weekday()], t.Format("02/01/2006"), t.Format("15:04"), loc.String())
}
