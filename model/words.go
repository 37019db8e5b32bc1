package model

import "strconv"

// Plural is a count with its noun as a NOC reads it at a glance: "1
// outage", "3 outages", never "1 outages" or "outage(s)".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
