package app

import (
	"context"
	"errors"

	"github.com/fivesafes/fivesafes/internal/inbox"
)

// EventHandler handles the webhook events it names. Handle must be idempotent:
// the dispatcher retries it after errors that can pass, and GitHub can send
// the same event twice.
type EventHandler interface {
	Handles() []string
	Handle(ctx context.Context, d inbox.Delivery) error
}

// ErrPermanent marks an error that no retry can fix (a payload that does not
// parse, say). Errors GitHub or the network may get over are judged by Retryable.
var ErrPermanent = errors.New("permanent")
