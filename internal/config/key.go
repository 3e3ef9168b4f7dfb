package config

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseRSAPrivateKey parses a GitHub App private key: one PEM block holding
// an RSA key in PKCS#1 ("RSA PRIVATE KEY", what GitHub generates) or PKCS#8
// ("PRIVATE KEY") form.
func ParseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	_, key, err := decodeRSAKey(pemBytes)
	return key, err
}

// decodeRSAKey also returns the key's PEM block re-encoded on its own. Text
// from an environment variable often has its newlines written as `\n`; that
// form is accepted too.
func decodeRSAKey(data []byte) ([]byte, *rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil && bytes.Contains(data, []byte(`\n`)) {
		block, _ = pem.Decode(bytes.ReplaceAll(data, []byte(`\n`), []byte("\n")))
	}
	if block == nil {
		return nil, nil, errors.New("no PEM block found; want the .pem file GitHub generated for the app (-----BEGIN RSA PRIVATE KEY----- ...)")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, nil, errors.New("the key is encrypted; give the unencrypted key GitHub generated")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("not a valid PKCS#1 RSA private key: %v", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("not a valid PKCS#8 private key: %v", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("a %T, but GitHub App keys are RSA", k)
		}
		key = rk
	default:
		return nil, nil, fmt.Errorf("the PEM block is a %q; want an RSA PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes}), key, nil
}
