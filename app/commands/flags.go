package commands

import (
	"strings"
)

// readFlags separates the flags of a command line from its operands. Flags
// may come before, between or after operands; "--" ends them. A flag with a
// value is written "--backend NAME" or "--backend=NAME".
func readFlags(c Command, words []string) (Invocation, error) {
	inv := Invocation{Flags: map[string]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			inv.Args = append(inv.Args, words[i+1:]...)
			break
		}
		if len(w) < 2 || w[0] != '-' {
			inv.Args = append(inv.Args, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(w[1:], "-"), "=")
		long := strings.HasPrefix(w, "--")
		f, ok := findFlag(c, name, long)
		if !ok {
			return inv, unknownFlag(c, w)
		}
		switch {
		case f.Value == "" && hasValue:
			return inv, reasonf(nil, "%s takes no value", code(spell(f, long)))
		case f.Value != "" && !hasValue:
			if i+1 == len(words) || strings.HasPrefix(words[i+1], "-") {
				return inv, reasonf(nil, "%s needs a value: %s", code(spell(f, long)), code(spell(f, long)+" "+f.Value))
			}
			i++
			value = words[i]
		}
		if f.Value != "" && value == "" {
			return inv, reasonf(nil, "%s needs a value: %s", code(spell(f, long)), code(spell(f, long)+" "+f.Value))
		}
		if before, seen := inv.Flags[f.Name]; seen && before != value {
			return inv, reasonf(nil, "%s is given twice (%s and %s); give it once", code("--"+f.Name), code(before), code(value))
		}
		inv.Flags[f.Name] = value
	}
	return inv, nil
}

func findFlag(c Command, name string, long bool) (Flag, bool) {
	for _, f := range c.Flags {
		if long && f.Name == name || !long && f.Short != "" && f.Short == name {
			return f, true
		}
	}
	return Flag{}, false
}

// spell is how the flag was written: --name or -n.
func spell(f Flag, long bool) string {
	if long {
		return "--" + f.Name
	}
	return "-" + f.Short
}

func unknownFlag(c Command, written string) error {
	name, _, _ := strings.Cut(written, "=")
	if len(c.Flags) == 0 {
		return reasonf(nil, "%s takes no options, and %s is not one", code("/"+c.Name), code(name))
	}
	var names []string
	for _, f := range c.Flags {
		names = append(names, "--"+f.Name)
		if f.Short != "" {
			names = append(names, "-"+f.Short)
		}
	}
	// Compare without dashes: "-backend" and "--f" are near misses too.
	bare := make([]string, len(names))
	for i, n := range names {
		bare[i] = strings.TrimLeft(n, "-")
	}
	var suggestions []string
	for _, s := range Suggest(strings.TrimLeft(name, "-"), bare) {
		for i, b := range bare {
			if b == s {
				suggestions = append(suggestions, names[i])
				break
			}
		}
	}
	return reasonf(suggestions, "unknown option %s for %s", code(name), code("/"+c.Name))
}

// operands reads the operands of /run and /cancel: action names, or "all".
// Repeated names count once, in the order first given.
func operands(args []string) (names []string, all bool, err error) {
	seen := map[string]bool{}
	for _, a := range args {
		switch {
		case a == "":
			return nil, false, reasonf(nil, "an action name is empty (an empty pair of quotes?)")
		case a == "all":
			all = true
		case !seen[a]:
			seen[a] = true
			names = append(names, a)
		}
	}
	if all && len(names) > 0 {
		return nil, false, reasonf(nil, "%s already means every action: give %s or action names, not both", code("all"), code("all"))
	}
	return names, all, nil
}
