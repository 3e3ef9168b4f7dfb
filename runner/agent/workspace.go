package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// maxWorkspaceDir keeps a workspace directory name well under the 255 bytes
// a file system allows for one component.
const maxWorkspaceDir = 200

// WorkspaceDir is the directory name of a workspace in the high and medium
// privacy stores. The bot names a workspace "owner/repo/branch" (a branch may
// hold more slashes), so the name is escaped into one path component:
// letters, digits, '_' and '-' stay, every other byte (the '/' first) is
// written %XX. The mapping is one-to-one, so two workspaces never share a
// directory; a very long name is cut and suffixed with a hash of the whole.
func WorkspaceDir(workspace string) (string, error) {
	if workspace == "" {
		return "", errors.New("the job has no workspace")
	}
	var b strings.Builder
	for i := 0; i < len(workspace); i++ {
		c := workspace[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	dir := b.String()
	if len(dir) > maxWorkspaceDir {
		sum := sha256.Sum256([]byte(workspace))
		dir = dir[:maxWorkspaceDir-33] + "-" + hex.EncodeToString(sum[:16])
	}
	return dir, nil
}
