package ghemu

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
)

// codeloadPrefix serves repository archives: codeload.github.com on
// GitHub, a path of the emulator here (outside the REST description, not
// checked, no credentials needed).
const codeloadPrefix = "/_codeload/"

// downloadTarball serves GET /repos/{owner}/{repo}/tarball/{ref}: a
// redirect to the archive of the commit ref names ("" for the default
// branch).
func downloadTarball(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	cm, ok := e.resolveLocked(r, c.param("ref"))
	if !ok {
		return notFound()
	}
	loc := fmt.Sprintf("%s%s%s/legacy.tar.gz/%s", e.url, codeloadPrefix, r.fullName(), cm.sha)
	return reply{status: http.StatusFound, header: http.Header{"Location": {loc}}}
}

// serveCodeload serves /_codeload/{owner}/{repo}/legacy.tar.gz/{ref}: the
// tree of the commit as a gzipped tar whose entries are under
// "{owner}-{repo}-{sha7}/", like GitHub's.
func (e *Emulator) serveCodeload(w http.ResponseWriter, r *http.Request) {
	e.count("GET " + codeloadPrefix)
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, codeloadPrefix), "/", 4)
	e.mu.Lock()
	var cm *commit
	var rp *repo
	if len(parts) == 4 && parts[2] == "legacy.tar.gz" {
		if rp = e.st.repos[repoKey(parts[0]+"/"+parts[1])]; rp != nil {
			cm, _ = e.resolveLocked(rp, parts[3])
		}
	}
	e.mu.Unlock()
	if cm == nil {
		http.Error(w, "404: Not Found", http.StatusNotFound)
		return
	}
	prefix := fmt.Sprintf("%s-%s-%s", rp.owner, rp.name, cm.sha[:7])
	archive, err := tarball(prefix, cm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+prefix+".tar.gz")
	w.Header().Set("Content-Length", fmt.Sprint(len(archive)))
	_, _ = w.Write(archive)
}

// tarball is git archive's tar.gz of cm under prefix: a pax global header
// naming the commit, then directories and files in path order.
func tarball(prefix string, cm *commit) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	mtime := cm.committer.at
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": cm.sha}}); err != nil {
		return nil, err
	}
	dirs := map[string]bool{"": true}
	for p := range cm.tree {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	entries := slices.Sorted(maps.Keys(dirs))
	for p := range cm.tree {
		entries = append(entries, p)
	}
	slices.SortFunc(entries, func(a, b string) int { return strings.Compare(a, b) })
	for _, p := range entries {
		name := prefix + "/" + p
		if dirs[p] {
			if p != "" {
				name += "/"
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o775, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
			continue
		}
		content := cm.tree[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o664, Size: int64(len(content)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
