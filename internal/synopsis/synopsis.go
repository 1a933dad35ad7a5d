// Package synopsis writes a command's usage line from its flag set, so that the
// text cannot drift from the flags' definitions: the commands trainer and bench
// print their usage with it, and their tests hold their doc comments to it.
package synopsis

import (
	"flag"
	"strings"
)

// Line is the usage line of command name: the name, each flag of fs in the flag
// package's order (by name), each as Flag writes it in brackets, then operands.
func Line(name string, fs *flag.FlagSet, operands string) string {
	parts := []string{name}
	fs.VisitAll(func(f *flag.Flag) { parts = append(parts, "["+Flag(f)+"]") })
	if operands != "" {
		parts = append(parts, operands)
	}
	return strings.Join(parts, " ")
}

// Flag writes f as a usage line shows it: with the back-quoted name of its usage
// string when it has one (what to pass, where the default alone would not say:
// FILE, kernel|cpu), else bare for a boolean, else with its default, or with the
// flag package's name for its type when the default is empty.
func Flag(f *flag.Flag) string {
	name, _ := flag.UnquoteUsage(f)
	if strings.Contains(f.Usage, "`") {
		return "-" + f.Name + " " + name
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "-" + f.Name
	}
	if f.DefValue == "" {
		return "-" + f.Name + " " + name
	}
	return "-" + f.Name + " " + f.DefValue
}
