package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

// asset is a file the pages use (the stylesheet, the icon). Pages link to
// it with a version made of its hash, so that it can be cached for a day
// and a new build is fetched at once.
type asset struct {
	name        string
	contentType string
	body        []byte
	version     string
	url         string
}

func newAsset(name, contentType string) asset {
	body, err := assets.ReadFile("static/" + name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	sum := sha256.Sum256(body)
	v := hex.EncodeToString(sum[:6])
	return asset{name: name, contentType: contentType, body: body, version: v, url: path.Join(staticPath, name) + "?v=" + v}
}

func (a asset) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", `"`+a.version+`"`)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
