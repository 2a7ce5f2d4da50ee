package awssim

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrBadCredentials marks a credentials file or key pair the simulator cannot issue.
var ErrBadCredentials = errors.New("awssim: bad credentials")

// newCredential draws a random key pair shaped like AWS's: a 20-character access key id
// beginning AKIA and a 40-character secret. Two simulators on one machine therefore never
// accept each other's callers.
func newCredential() Credential {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return Credential{AccessKeyID: "AKIA" + randomString(upper, 16), SecretAccessKey: randomString(secretChars, 40)}
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("awssim: crypto/rand: " + err.Error()) // never fails on Linux; see crypto/rand.Read
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// validate checks a key pair can be used in a SigV4 credential scope.
func (c Credential) validate() error {
	if err := checkAccessKeyID(c.AccessKeyID); err != nil {
		return err
	}
	if c.SecretAccessKey == "" {
		return fmt.Errorf("%w: access key %s has an empty secret", ErrBadCredentials, c.AccessKeyID)
	}
	return nil
}

// checkAccessKeyID refuses an access key id a SigV4 credential scope cannot carry.
func checkAccessKeyID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: the access key id is empty", ErrBadCredentials)
	case strings.ContainsAny(id, "/ ,=\t"):
		return fmt.Errorf("%w: access key id %q has a character ('/', ',', '=' or a space) a SigV4 credential scope cannot carry", ErrBadCredentials, id)
	}
	return nil
}

// ParseCredentials reads key pairs in the AWS shared credentials file format
// (~/.aws/credentials): one [profile] section per pair, each with aws_access_key_id and
// aws_secret_access_key. Comments (# or ;) and blank lines are skipped; any other key, a
// section missing half its pair, or a key id given twice is an error naming its line.
func ParseCredentials(r io.Reader) ([]Credential, error) {
	type section struct {
		name string
		line int
		cred Credential
	}
	var (
		out  []Credential
		cur  *section
		seen = map[string]int{}
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		if cur.cred.AccessKeyID == "" || cur.cred.SecretAccessKey == "" {
			return fmt.Errorf("%w: line %d: profile [%s] needs both aws_access_key_id and aws_secret_access_key", ErrBadCredentials, cur.line, cur.name)
		}
		if first, dup := seen[cur.cred.AccessKeyID]; dup {
			return fmt.Errorf("%w: line %d: access key id %s is already given at line %d", ErrBadCredentials, cur.line, cur.cred.AccessKeyID, first)
		}
		seen[cur.cred.AccessKeyID] = cur.line
		out = append(out, cur.cred)
		return nil
	}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%w: line %d: a section header must end with ']'", ErrBadCredentials, n)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &section{name: strings.TrimSpace(line[1 : len(line)-1]), line: n}
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%w: line %d: want key = value", ErrBadCredentials, n)
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: line %d: %s comes before any [profile] section", ErrBadCredentials, n, strings.TrimSpace(key))
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "aws_access_key_id":
			cur.cred.AccessKeyID = val
		case "aws_secret_access_key":
			cur.cred.SecretAccessKey = val
		default:
			return nil, fmt.Errorf("%w: line %d: unknown key %q (want aws_access_key_id or aws_secret_access_key)", ErrBadCredentials, n, key)
		}
		if key == "aws_access_key_id" {
			if err := checkAccessKeyID(val); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("awssim: read credentials: %w", err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no [profile] section with a key pair", ErrBadCredentials)
	}
	return out, nil
}
