package main

// record is what a request parses to: 64 bytes.
type record struct {
	length   int
	upper    int
	digits   int
	checksum uint64
	first    [32]byte
}

// sum keeps the parse observable.
var sum uint64

// parseNew returns a pointer to its local record, so the record is moved
// to the heap ("moved to heap: r" in go build -gcflags=-m). noinline keeps
// the caller from absorbing it, as a function in another package would.
//
//go:noinline
func parseNew(in []byte) *record {
	var r record
	fill(in, &r)
	return &r
}

// parseInto writes into the caller's record; r does not escape.
//
//go:noinline
func parseInto(in []byte, r *record) {
	fill(in, r)
}

func fill(in []byte, r *record) {
	*r = record{length: len(in)}
	h := uint64(14695981039346656037)
	for i, c := range in {
		switch {
		case c >= 'A' && c <= 'Z':
			r.upper++
		case c >= '0' && c <= '9':
			r.digits++
		}
		if i < len(r.first) {
			r.first[i] = c
		}
		h = (h ^ uint64(c)) * 1099511628211
	}
	r.checksum = h
}

//go:noinline
func consume(r *record) {
	sum += r.checksum + uint64(r.length)
}
