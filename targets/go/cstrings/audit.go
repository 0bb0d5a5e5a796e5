package main

import "fmt"

// lineSize fixes the audit line's length so each leak is the same size
// (lineSize+1 bytes requested from malloc) whatever the input.
const lineSize = 255

// auditLine formats the request as a fixed-width line; %q keeps NUL bytes
// in the input from cutting the C string short.
func auditLine(in []byte) string {
	if len(in) > 64 {
		in = in[:64]
	}
	return fmt.Sprintf("%-*.*s", lineSize, lineSize, fmt.Sprintf("audit: %d %q", len(in), in))
}
