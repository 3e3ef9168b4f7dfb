package ghemu

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// authKind is the credential an operation needs.
type authKind int

const (
	authApp          authKind = iota // the app's JWT
	authInstallation                 // an installation access token
)

// token is an installation access token the emulator handed out.
type token struct {
	installation int64
	expires      time.Time
}

// tokenLifetime is how long GitHub's installation tokens live.
const tokenLifetime = time.Hour

func (e *Emulator) authorizeLocked(rt *route, c *call) (reply, bool) {
	scheme, cred, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return errorReply(http.StatusUnauthorized, "Requires authentication"), false
	}
	switch rt.auth {
	case authApp:
		if !strings.EqualFold(scheme, "bearer") {
			return errorReply(http.StatusUnauthorized, "A JSON web token could not be decoded"), false
		}
		if err := e.verifyJWT(cred); err != nil {
			return errorReply(http.StatusUnauthorized, err.Error()), false
		}
	case authInstallation:
		tok, ok := e.st.tokens[cred]
		if !ok || !(strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) || !e.now().Before(tok.expires) {
			return errorReply(http.StatusUnauthorized, "Bad credentials"), false
		}
		if c.inst = e.st.installations[tok.installation]; c.inst == nil {
			return errorReply(http.StatusUnauthorized, "Bad credentials"), false
		}
	}
	return reply{}, true
}

// verifyJWT checks an app JWT the way GitHub does. Without WithAppKey any
// three-part token passes.
func (e *Emulator) verifyJWT(raw string) error {
	undecodable := errors.New("A JSON web token could not be decoded")
	if e.appKey == nil {
		if strings.Count(raw, ".") != 2 {
			return undecodable
		}
		return nil
	}
	var claims jwt.RegisteredClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if _, err := p.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return e.appKey, nil }); err != nil {
		return undecodable
	}
	now := e.now()
	switch {
	case claims.Issuer != strconv.FormatInt(e.appID, 10):
		return errors.New("'Issuer' claim ('iss') must be an Integer")
	case claims.ExpiresAt == nil || !now.Before(claims.ExpiresAt.Time):
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case claims.ExpiresAt.Sub(now) > 10*time.Minute+time.Minute: // GitHub allows 10 min, plus some clock drift
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	case claims.IssuedAt == nil || claims.IssuedAt.After(now.Add(time.Minute)):
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	return nil
}

// getApp serves GET /app.
func getApp(e *Emulator, c *call) reply {
	return jsonReply(http.StatusOK, e.appJSON())
}

// createAccessToken serves POST /app/installations/{installation_id}/access_tokens.
func createAccessToken(e *Emulator, c *call) reply {
	id, _ := strconv.ParseInt(c.param("installation_id"), 10, 64)
	if _, ok := e.st.installations[id]; !ok {
		return notFound()
	}
	tok := "ghs_" + randomAlnum(36)
	expires := e.timestamp().Add(tokenLifetime)
	e.st.tokens[tok] = token{installation: id, expires: expires}
	e.changedLocked()
	return jsonReply(http.StatusCreated, obj{
		"token": tok, "expires_at": ts(expires), "permissions": appPermissions(), "repository_selection": "all",
	})
}

func randomAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// repoForCallLocked finds the repository a request names. An installation
// reads its own repositories and public ones, and writes only its own; like
// GitHub, a repository it may not see is "Not Found".
func (e *Emulator) repoForCallLocked(c *call, write bool) (*repo, reply, bool) {
	r, ok := e.st.repos[repoKey(c.param("owner")+"/"+c.param("repo"))]
	own := ok && c.inst != nil && strings.EqualFold(c.inst.Account, r.owner)
	switch {
	case !ok || (r.private && !own):
		return nil, notFound(), false
	case write && !own:
		return nil, errorReply(http.StatusForbidden, "Resource not accessible by integration"), false
	}
	return r, reply{}, true
}
