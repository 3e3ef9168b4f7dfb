package runview

import (
	"fmt"
	"regexp"
	"time"

	"github.com/fivesafes/fivesafes/internal/markdown"
)

// GitHub's limits on a check run's button: label, description and
// identifier, in characters.
const (
	maxLabel       = 20
	maxDescription = 40
	maxIdentifier  = 20
)

// Longest a user's value is shown, in runes, before it is shortened.
const (
	nameInTitle   = 24 // an action name in a title
	nameInTable   = 100
	nameInComment = 60
	pathInTitle   = 24
	messageShown  = 300
	reasonShown   = 300
	actionsListed = 30 // requested actions listed in a summary
	filesListed   = 10 // files in one outputs cell
)

// capOutput is the last guard on a title, summary or text: the builders
// stay within markdown.Budget, so this cuts only if one of them is wrong.
func capOutput(s string) string {
	return markdown.FitBytes(s, markdown.MaxOutput)
}

var codePattern = regexp.MustCompile(`^[a-z_]{1,40}$`)

// statusCode is a job-runner status code as inline code; a value that is not
// a code's shape is escaped text instead.
func statusCode[S ~string](c S) string {
	if codePattern.MatchString(string(c)) {
		return "`" + string(c) + "`"
	}
	return markdown.Text(string(c), 40)
}

// duration is d in the units a person reads: 850ms, 12s, 3m 05s, 1h 02m.
// It is truncated, never rounded up, so that 59.9s is 59s and not 60s.
func duration(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
