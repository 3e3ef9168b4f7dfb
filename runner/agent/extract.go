package agent

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// ExtractLimits cap what a code tarball may unpack to.
type ExtractLimits struct {
	MaxBytes int64 // total size of the files
	MaxFiles int   // entries of any kind
}

// DefaultExtractLimits are generous for a study repository.
func DefaultExtractLimits() ExtractLimits {
	return ExtractLimits{MaxBytes: 1 << 30, MaxFiles: 50_000}
}

// ErrHostileArchive is returned for a tarball that tries to write outside the
// workspace, holds devices, or exceeds the limits.
var ErrHostileArchive = errors.New("refused code archive")

// entry is one checked member of the archive, its top-level directory
// stripped.
type entry struct {
	name     string // slash-separated, relative, clean
	typ      byte
	linkname string // symlink: as written; hardlink: stripped and clean
}

// ExtractCode unpacks a GitHub-style tarball (one top-level directory) into
// workdir, over what is there: earlier outputs stay. The whole archive is
// checked before anything is written, and writing goes through an os.Root,
// so nothing can land outside workdir.
func ExtractCode(tarball, workdir string, lim ExtractLimits) error {
	entries, err := checkArchive(tarball, lim)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(workdir, 0o750); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	root, err := os.OpenRoot(workdir)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	defer root.Close()
	return walkArchive(tarball, func(i int, h *tar.Header, r io.Reader) error {
		e := entries[i]
		if e.name == "" {
			return nil
		}
		switch e.typ {
		case tar.TypeDir:
			return root.MkdirAll(e.name, 0o750)
		case tar.TypeReg:
			if err := root.MkdirAll(path.Dir(e.name), 0o750); err != nil {
				return err
			}
			_ = root.Remove(e.name) // an earlier version or link; a directory stays and fails below
			perm := fs.FileMode(0o640)
			if h.Mode&0o111 != 0 {
				perm = 0o750
			}
			f, err := root.OpenFile(e.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, io.LimitReader(r, h.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		case tar.TypeSymlink:
			if err := root.MkdirAll(path.Dir(e.name), 0o750); err != nil {
				return err
			}
			_ = root.Remove(e.name)
			return root.Symlink(e.linkname, e.name)
		case tar.TypeLink:
			if err := root.MkdirAll(path.Dir(e.name), 0o750); err != nil {
				return err
			}
			_ = root.Remove(e.name)
			return root.Link(e.linkname, e.name)
		}
		return nil
	})
}

// checkArchive reads every header and refuses the archive at the first
// problem. It returns the entries in archive order (index = header number).
func checkArchive(tarball string, lim ExtractLimits) ([]entry, error) {
	var entries []entry
	var top string
	var total int64
	files := map[string]byte{}
	refuse := func(name, why string) error {
		return fmt.Errorf("%w: %q: %s", ErrHostileArchive, name, why)
	}
	err := walkArchive(tarball, func(i int, h *tar.Header, _ io.Reader) error {
		if h.Typeflag == tar.TypeXGlobalHeader {
			entries = append(entries, entry{})
			return nil
		}
		if len(entries) >= lim.MaxFiles {
			return fmt.Errorf("%w: more than %d entries", ErrHostileArchive, lim.MaxFiles)
		}
		name := h.Name
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
			return refuse(name, "absolute or backslash path")
		}
		for _, c := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
			if c == ".." {
				return refuse(name, "path with ..")
			}
		}
		clean := path.Clean(name)
		first, rest, _ := strings.Cut(clean, "/")
		if top == "" {
			top = first
		}
		if first != top || first == "." {
			return refuse(name, "not under the archive's single top-level directory "+top)
		}
		e := entry{name: rest, typ: h.Typeflag}
		switch h.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg, tar.TypeRegA:
			e.typ = tar.TypeReg
			if h.Size < 0 {
				return refuse(name, "negative size")
			}
			total += h.Size
			if total > lim.MaxBytes {
				return fmt.Errorf("%w: the files add up to more than %d bytes", ErrHostileArchive, lim.MaxBytes)
			}
		case tar.TypeSymlink:
			t := h.Linkname
			if t == "" || path.IsAbs(t) || strings.Contains(t, "\\") {
				return refuse(name, "symlink to an absolute path")
			}
			// Only downward links: a chain of them cannot leave the tree,
			// whereas ".." through another link can.
			if slices.Contains(strings.Split(t, "/"), "..") {
				return refuse(name, "symlink with .. in its target")
			}
			e.linkname = t
		case tar.TypeLink:
			t := path.Clean(h.Linkname)
			lfirst, lrest, _ := strings.Cut(t, "/")
			if lfirst != top || lrest == "" || files[lrest] != tar.TypeReg {
				return refuse(name, "hard link to something that is not an earlier file of the archive")
			}
			e.linkname = lrest
		default:
			return refuse(name, fmt.Sprintf("unsupported entry type %q (devices, fifos and the like are refused)", h.Typeflag))
		}
		if rest == "" && e.typ != tar.TypeDir {
			return refuse(name, "the top level must be a directory")
		}
		if rest != "" {
			if prev, dup := files[rest]; dup && (prev == tar.TypeDir) != (e.typ == tar.TypeDir) {
				return refuse(name, "appears twice with different types")
			}
			files[rest] = e.typ
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if top == "" {
		return nil, fmt.Errorf("%w: the archive is empty", ErrHostileArchive)
	}
	// A file must not sit below a symlink of the archive: writing it would
	// go wherever the link points.
	for _, e := range entries {
		for d := path.Dir(e.name); d != "." && d != "/" && e.name != ""; d = path.Dir(d) {
			if files[d] == tar.TypeSymlink {
				return nil, refuse(e.name, "lies below the symlink "+d)
			}
		}
	}
	return entries, nil
}

// walkArchive calls fn for each header of the gzip'd tarball.
func walkArchive(tarball string, fn func(i int, h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%w: not gzip: %v", ErrHostileArchive, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrHostileArchive, err)
		}
		if err := fn(i, h, tr); err != nil {
			return err
		}
	}
}
