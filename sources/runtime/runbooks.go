package runtime

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources/runbooks"
)

// RunbookRevision is what git says of the runbook file at path: its last
// commit and whether the work tree holds uncommitted changes to it
// (sources/runbooks). main hands it to the runbook view.
func RunbookRevision(ctx context.Context, path string) (model.RunbookRevision, error) {
	return runbooks.Revision(ctx, path)
}

// checkRunbooks prints a warning for each catalog runbook that is
// missing, unreadable, modified locally or never committed, then how
// many local runbooks it looked at.
func checkRunbooks(ctx context.Context, cfg *config.Config, w io.Writer) {
	problems, local := runbooks.Check(ctx, cfg.Catalog().Services, cfg.RunbookDir(), cfg.RunbooksURL)
	for _, p := range problems {
		fmt.Fprintf(w, "warning: runbook %s (%s): %s\n", printable(p.Path), printable(strings.Join(p.Services, ", ")), printable(p.What))
	}
	if local > 0 {
		fmt.Fprintf(w, "runbooks: %s looked at, %s\n", model.Plural(local, "local runbook", "local runbooks"),
			model.Plural(len(problems), "problem", "problems"))
	}
}

// printable is s, quoted when it holds anything a terminal would act on.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
