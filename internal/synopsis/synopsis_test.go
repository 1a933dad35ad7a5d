package synopsis

import (
	"flag"
	"testing"
	"time"
)

// Each kind of flag as a usage line shows it, in the flag package's order.
func TestLine(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Duration("limit-time", 50*time.Millisecond, "time per measurement")
	fs.Bool("fetch", false, "download")
	fs.String("o", "", "results `FILE` (default somewhere)")
	fs.String("by", "kernel", "columns, `kernel|cpu`")
	fs.Int("count", 5, "runs")
	fs.String("name", "", "a name")
	want := "plot [-by kernel|cpu] [-count 5] [-fetch] [-limit-time 50ms] [-name string] [-o FILE] FILE..."
	if got := Line("plot", fs, "FILE..."); got != want {
		t.Errorf("Line = %q\nwant   %q", got, want)
	}
	if got := Line("sparse", flag.NewFlagSet("sparse", flag.ContinueOnError), ""); got != "sparse" {
		t.Errorf("Line of no flags = %q, want %q", got, "sparse")
	}
}
