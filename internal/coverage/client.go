// Package coverage asks a health-insurance operator whether a patient's
// plan covers a consultation, and records the answer on the appointment.
//
// The question goes out after the booking commits (see Service.Booked):
// a booking never waits for an operator, and never holds a database
// transaction or connection while one is slow. Until the answer arrives,
// and for good when the operator cannot be reached, the appointment's
// coverage reads UNKNOWN.
package coverage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Request is what the operator is asked. The card number travels only to
// the operator, never to a log or an error message.
type Request struct {
	Operator    string    `json:"operator"`
	CardNumber  string    `json:"cardNumber"`
	Specialty   string    `json:"specialty"`
	DoctorCRM   string    `json:"doctorCrm"`
	ServiceDate time.Time `json:"serviceDate"`
	AmountCents int       `json:"amountCents"`
}

// Result is the operator's answer.
type Result struct {
	Covered       bool   `json:"covered"`
	Authorization string `json:"authorization,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// Checker asks an operator. Implementations return an error when no
// answer could be had; a "not covered" answer is a Result, not an error.
type Checker interface {
	Check(ctx context.Context, r Request) (Result, error)
}

// HTTPChecker is the operators' coverage API over HTTP:
//
//	POST {BaseURL}/v1/coverage  {"operator":..., "cardNumber":..., ...}
//	200 {"covered": true, "authorization": "A1B2"} or {"covered": false, "reason": "..."}
//
// Each attempt has its own Timeout; a 5xx, a 429, a timeout or a network
// error is retried up to Attempts in all, Backoff apart (doubling, with
// jitter); any other status is final. The breaker counts whole checks,
// not attempts: one check that exhausted its retries is one failure.
type HTTPChecker struct {
	BaseURL  string
	Token    string
	Client   *http.Client
	Timeout  time.Duration
	Attempts int
	Backoff  time.Duration
	Breaker  *Breaker
	// Sleep waits between attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrUnavailable wraps every failure to get an answer.
var ErrUnavailable = errors.New("coverage: operator unavailable")

// Check implements Checker.
func (c *HTTPChecker) Check(ctx context.Context, r Request) (Result, error) {
	if c.Breaker != nil {
		if err := c.Breaker.Allow(); err != nil {
			return Result{}, err
		}
	}
	res, err := c.attempts(ctx, r)
	if c.Breaker != nil {
		// A definite answer, even a refusal (4xx), shows the API is up.
		var final *finalError
		c.Breaker.Done(err == nil || errors.As(err, &final))
	}
	return res, err
}

// finalError is a response that retrying would not change.
type finalError struct{ status int }

func (e *finalError) Error() string { return fmt.Sprintf("operator answered HTTP %d", e.status) }

func (c *HTTPChecker) attempts(ctx context.Context, r Request) (Result, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Result{}, err
	}
	n := max(1, c.Attempts)
	wait := c.Backoff
	var last error
	for i := 0; i < n; i++ {
		if i > 0 {
			// Full jitter on top of half the delay: replicas retrying
			// together spread out.
			d := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
			if err := c.sleep(ctx, d); err != nil {
				return Result{}, fmt.Errorf("%w: %v (last: %v)", ErrUnavailable, err, last)
			}
			wait *= 2
		}
		res, err := c.once(ctx, body)
		var final *finalError
		switch {
		case err == nil:
			return res, nil
		case errors.As(err, &final), ctx.Err() != nil:
			return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		last = err
	}
	return Result{}, fmt.Errorf("%w after %d attempts: %v", ErrUnavailable, n, last)
}

func (c *HTTPChecker) once(ctx context.Context, body []byte) (Result, error) {
	actx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/v1/coverage", bytes.NewReader(body))
	if err != nil {
		return Result{}, &finalError{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return Result{}, fmt.Errorf("no answer within %s", c.Timeout)
		}
		// The URL error names the endpoint only: the card number is in
		// the body.
		return Result{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		return Result{}, err
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return Result{}, fmt.Errorf("operator answered HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return Result{}, &finalError{status: resp.StatusCode}
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil {
		// A broken body from a 200 is the API misbehaving: retry.
		return Result{}, errors.New("operator sent an unreadable answer")
	}
	return res, nil
}

func (c *HTTPChecker) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
