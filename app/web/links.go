package web

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var (
	repoShape = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)
	shaShape  = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)
)

// validRepo reports whether s is an owner/name on GitHub.
func validRepo(s string) bool {
	if !repoShape.MatchString(s) {
		return false
	}
	_, name, _ := strings.Cut(s, "/")
	return name != "." && name != ".."
}

// commitURL is the commit's page on GitHub, or "" when repo or sha is not
// one (then the page shows it without a link).
func (p *Pages) commitURL(repo, sha string) string {
	if !validRepo(repo) || !shaShape.MatchString(sha) {
		return ""
	}
	return p.github + "/" + repo + "/commit/" + sha
}

// pullURL is the pull request's page on GitHub, or "".
func (p *Pages) pullURL(repo string, n int) string {
	if !validRepo(repo) || n <= 0 {
		return ""
	}
	return p.github + "/" + repo + "/pull/" + strconv.Itoa(n)
}

// ghLink is a link to GitHub as a page shows it; URL is "" when the
// value is not one GitHub could have (then it is shown as text).
type ghLink struct {
	URL   string
	Text  string
	Title string
	Code  bool
}

// commit is a commit linked to GitHub, shown by its short SHA.
func (p *Pages) commit(repo, sha string) ghLink {
	if sha == "" {
		return ghLink{}
	}
	return ghLink{URL: p.commitURL(repo, sha), Text: short(7, sha), Title: sha, Code: true}
}

// pull is a pull request linked to GitHub, shown as #N.
func (p *Pages) pull(repo string, n int) ghLink {
	if n <= 0 {
		return ghLink{}
	}
	return ghLink{URL: p.pullURL(repo, n), Text: "#" + strconv.Itoa(n), Title: repo + "#" + strconv.Itoa(n)}
}

func runURL(id string) string     { return runPathPrefix + url.PathEscape(id) }
func releaseURL(id string) string { return releasePathPrefix + url.PathEscape(id) }

// subjectEventsURL is the log's entries about id.
func subjectEventsURL(id string) string {
	return eventsPath + "?" + url.Values{"subject": {id}}.Encode()
}

// eventLink is the page an entry links to: the Source's Link if it is a
// run's or a release's page, else "".
func eventLink(link string) string {
	for _, prefix := range []string{runPathPrefix, releasePathPrefix} {
		if rest, ok := strings.CutPrefix(link, prefix); ok && rest != "" && !strings.ContainsAny(rest, "/?#\\") {
			return link
		}
	}
	return ""
}
