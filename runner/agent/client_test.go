package agent

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// fixedBot answers every call with the next of its answers (the last one
// repeats).
func fixedBot(t *testing.T, answers ...func(w http.ResponseWriter)) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		answers[min(n, len(answers)-1)](w)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, testToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	return c, &calls
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func TestClientRetriesServerErrorsAndRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	t.Run("5xx then success", func(t *testing.T) {
		c, calls := fixedBot(t, status(502, ""), status(503, ""), status(200, `{"cancel":true}`))
		a, err := c.Update(ctx, "t", Update{Seq: 1})
		if err != nil || !a.Cancel || calls.Load() != 3 {
			t.Errorf("answer %+v, %v after %d calls; want cancel after 3", a, err, calls.Load())
		}
	})
	t.Run("409 is a stale attempt", func(t *testing.T) {
		c, calls := fixedBot(t, status(409, "stale"))
		if _, err := c.Update(ctx, "t", Update{}); !errors.Is(err, ErrStaleAttempt) || calls.Load() != 1 {
			t.Errorf("err = %v after %d calls, want ErrStaleAttempt at once", err, calls.Load())
		}
	})
	for name, answer := range map[string]func(http.ResponseWriter){
		"not JSON":          status(200, "<html>"),
		"a task without ID": status(200, `{"kind":"run_job"}`),
		"unauthorised":      status(401, "no"),
	} {
		t.Run(name, func(t *testing.T) {
			c, calls := fixedBot(t, answer)
			task, err := c.Claim(ctx, time.Second)
			if err == nil || task != nil || calls.Load() != 1 {
				t.Errorf("claim = %+v, %v after %d calls; want an error at once", task, err, calls.Load())
			}
		})
	}
	t.Run("no task", func(t *testing.T) {
		c, _ := fixedBot(t, status(204, ""))
		if task, err := c.Claim(ctx, time.Second); task != nil || err != nil {
			t.Errorf("claim = %+v, %v; want nothing", task, err)
		}
	})
}

// The wire names are shared with the bot's side of the protocol.
func TestWireNames(t *testing.T) {
	t.Parallel()
	exit := 0
	data, _ := json.Marshal(Update{ExitCode: &exit})
	var u map[string]any
	_ = json.Unmarshal(data, &u)
	var keys []string
	for k := range u {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"attempt", "exit_code", "message", "results", "seq", "stage", "status_code"}
	if !slices.Equal(keys, want) {
		t.Errorf("update keys = %v, want %v", keys, want)
	}
	var task Task
	in := `{"id":"t","kind":"run_job","attempt":2,"lease_seconds":60,"job":{"id":"j","action":"a","workspace":"w","repo":"o/r","sha":"s","image":"python:v2","args":["x.py"],"outputs":[{"level":"moderately_sensitive","outputs":[{"name":"n","path":"p.csv"}]}],"config":{"k":1},"timeout_seconds":5,"needs":["i"]}}`
	if err := json.Unmarshal([]byte(in), &task); err != nil {
		t.Fatal(err)
	}
	j := task.Job
	if task.Attempt != 2 || task.LeaseSeconds != 60 || j.Image != "python:v2" || !j.HasConfig() || j.TimeoutSeconds != 5 ||
		j.Needs[0] != "i" || j.OutputGroups()[0].Outputs[0].Path != "p.csv" {
		t.Errorf("task = %+v", task)
	}
}

func TestConfigIsPassedAsOneArgument(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		config string
		want   []string
	}{
		"absent": {"", []string{"x.py"}},
		"null":   {"null", []string{"x.py"}},
		"object": {`{ "a": [1, 2] }`, []string{"x.py", "--config", `{"a":[1,2]}`}},
	}
	for name, tc := range cases {
		got, err := jobArgv(Job{Args: []string{"x.py"}, Config: json.RawMessage(tc.config)})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: argv = %q, %v; want %q", name, got, err, tc.want)
		}
	}
}

func TestClipKeepsMessagesWithinTheBotsLimit(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 3000)
	got := clip(long + "\x00")
	if len(got) > maxMessage || !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
		t.Errorf("clip gave %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if clip("short\xff") != "short\uFFFD" {
		t.Errorf("clip(invalid UTF-8) = %q", clip("short\xff"))
	}
}
