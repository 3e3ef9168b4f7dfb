package commands

import (
	"fmt"
	"strings"
)

var helpCommand = Command{
	Name:  "help",
	Usage: "/help",
	Help:  "List these commands.",
	Parse: parseHelp,
}

// Help asks for the list of commands; the answer is HelpText.
type Help struct{}

func parseHelp(inv Invocation) (any, error) {
	if err := noOperands("help", inv); err != nil {
		return nil, err
	}
	return Help{}, nil
}

// noOperands refuses arguments to a command that takes none.
func noOperands(name string, inv Invocation) error {
	if len(inv.Args) > 0 {
		return reasonf(nil, "%s takes no arguments, and %s was given", code("/"+name), code(strings.Join(inv.Args, " ")))
	}
	return nil
}

// HelpText is the answer to /help: every command with its usage, its help
// and its options, in Markdown.
func HelpText() string {
	var b strings.Builder
	b.WriteString("Write a command at the start of a line in a comment on the pull request. ")
	b.WriteString("One comment may hold several commands, one per line; quoted lines and code blocks are not read.\n\n")
	b.WriteString("```text\n" + allUsages() + "\n```\n\n")
	for _, c := range All {
		fmt.Fprintf(&b, "- %s: %s\n", code("/"+c.Name), c.Help)
		for _, f := range c.Flags {
			forms := []string{"--" + f.Name}
			if f.Short != "" {
				forms = []string{"-" + f.Short, "--" + f.Name}
			}
			for i := range forms {
				if f.Value != "" {
					forms[i] += " " + f.Value
				}
				forms[i] = code(forms[i])
			}
			fmt.Fprintf(&b, "  - %s: %s\n", strings.Join(forms, ", "), f.Help)
		}
	}
	b.WriteString("\nArguments are split like a shell's words: quote a word with spaces (`\"a b\"`), and `--` ends the options.\n")
	return b.String()
}
