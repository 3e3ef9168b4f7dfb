package markdown

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$`)

// Mention is @login for a GitHub login, "someone" for none, or the value
// as text that mentions no one if it is not a login: only a real login may
// notify anyone.
func Mention(login string) string {
	if login == "" {
		return "someone"
	}
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return TextNoMentions(login, 40)
}

// PlainMention is Mention for a plain-text place, such as a title, where
// GitHub notifies no one and shows the value as it is.
func PlainMention(login string) string {
	if login == "" {
		return "someone"
	}
	if loginPattern.MatchString(login) {
		return "@" + login
	}
	return Line(login, 40)
}

// ShortSHA is a commit's first 7 hex digits, in lower case, as inline
// code; "an unknown commit" if what it was given is not hex, so that no
// other value stands where a commit is expected.
func ShortSHA(sha string) string {
	if sha == "" || strings.Trim(strings.ToLower(sha), "0123456789abcdef") != "" {
		return "an unknown commit"
	}
	return "`" + strings.ToLower(sha[:min(7, len(sha))]) + "`"
}

// SHA256 is a file's SHA-256 as inline code, or the value as text that
// mentions no one if it is not lower-case hex of at most 64 digits.
func SHA256(sum string) string {
	if sum != "" && len(sum) <= 64 && strings.Trim(sum, "0123456789abcdef") == "" {
		return "`" + sum + "`"
	}
	return TextNoMentions(sum, 70)
}

// SafeURL is an http(s) URL fit for a Markdown link destination, or "":
// a link may not run script (javascript:) nor end early at a parenthesis,
// a space or an angle bracket.
func SafeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	s := u.String() // percent-encodes spaces, quotes, <, > and control characters
	return strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20").Replace(s)
}

// Size is a file size in bytes, KB, MB or GB (of 1,024), as level 4's
// messages count them.
func Size(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", max(n, 0))
	case n < k*k:
		return fmt.Sprintf("%.1f KB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MB", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(k*k*k))
}

// Plural is a count and its noun: "1 file", "3 files".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// List joins items as a sentence does, "a, b and c", naming at most limit
// of them and counting the rest as one more item: "a, b and 3 more".
func List(items []string, limit int) string {
	if len(items) > limit {
		items = append(items[:limit:limit], fmt.Sprintf("%d more", len(items)-limit))
	}
	return join(items)
}

// ListElided is List with the cut marked, "a, b … and 3 more", as the
// release views mark every list and table they cut short ("… and N more").
// The two wordings are what researchers already read in each place.
func ListElided(items []string, limit int) string {
	if len(items) > limit {
		return strings.Join(items[:limit], ", ") + fmt.Sprintf(" … and %d more", len(items)-limit)
	}
	return join(items)
}

// join is "a", "a and b", "a, b and c".
func join(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
