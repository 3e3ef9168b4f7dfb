package web

import (
	"fmt"
	"html/template"
	"strconv"
	"time"
	"unicode/utf8"
)

// funcs are the templates' functions; the few that need the clock or the
// GitHub address close over p.
func (p *Pages) funcs() template.FuncMap {
	return template.FuncMap{
		"when":          p.when,
		"took":          p.took,
		"commit":        p.commit,
		"pull":          p.pull,
		"exit":          exitCode,
		"runStatus":     runStatuses.of,
		"jobState":      jobStates.of,
		"jobStatus":     jobStatuses.of,
		"releaseState":  releaseStates.of,
		"decision":      planDecisions.of,
		"kind":          kind,
		"bytes":         size,
		"short":         short,
		"fields":        fields,
		"runURL":        runURL,
		"releaseURL":    releaseURL,
		"eventsURL":     subjectEventsURL,
		"actions":       actionList,
		"rowsByColumns": rowsByColumns,
	}
}

// stamp is a time as the pages show it: UTC, to the minute, with how long
// ago; ISO is for <time datetime>.
type stamp struct {
	ISO  string
	Text string
	Ago  string
}

func (p *Pages) when(t time.Time) stamp {
	if t.IsZero() {
		return stamp{}
	}
	t = t.UTC()
	return stamp{ISO: t.Format("2006-01-02T15:04:05.000Z"), Text: t.Format("2006-01-02 15:04 UTC"), Ago: ago(p.now().Sub(t))}
}

// ago is d, the time since something, as "5 minutes ago".
func ago(d time.Duration) string {
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < time.Minute:
		if suffix == " ago" {
			return "just now"
		}
		return "in less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + suffix
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + suffix
	default:
		return plural(int(d/(24*time.Hour)), "day") + suffix
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// took is how long from start to end, or to now ("so far") while end is
// zero; "" before start.
func (p *Pages) took(start, end time.Time) string {
	if start.IsZero() {
		return ""
	}
	if end.IsZero() {
		return duration(p.now().Sub(start)) + " so far"
	}
	return duration(end.Sub(start))
}

// duration is d to the second, in its two largest units: "3m 04s".
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", d/time.Minute, d%time.Minute/time.Second)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", d/time.Hour, d%time.Hour/time.Minute)
	default:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
}

// size is a file size for people: "820 bytes", "1.5 KiB".
func size(n int64) string {
	if n < 1024 {
		return plural(int(n), "byte")
	}
	v, unit := float64(n), ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v, unit = v/1024, u
		if v < 1024 {
			break
		}
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
}

func rowsByColumns(rows, columns *int) string {
	switch {
	case rows != nil && columns != nil:
		return fmt.Sprintf("%d × %d", *rows, *columns)
	case rows != nil:
		return plural(*rows, "row")
	case columns != nil:
		return plural(*columns, "column")
	}
	return ""
}

// short is the first n characters of s (a hash, a SHA).
func short(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func exitCode(c *int) string {
	if c == nil {
		return ""
	}
	return strconv.Itoa(*c)
}
