package main

import "sync"

const (
	// frameSize is the read buffer, bufio's default size. Each leaked call
	// pins one, so 20,000 calls retain ~80 MB.
	frameSize = 4 << 10
	idSize    = 16
	// ringSize bounds how many IDs are remembered. It is deliberately
	// larger than any workload's call count: by design the ring costs
	// ringSize*idSize bytes (512 KiB, allocated up front), and the bug is
	// that with subslices each slot costs a whole frame instead, growing
	// by 4 KiB per call up to 128 MiB.
	ringSize = 1 << 15
)

// readFrame stands in for reading a message into a fresh buffer.
func readFrame(in []byte) []byte {
	buf := make([]byte, frameSize)
	copy(buf, in)
	return buf
}

// ring remembers the most recent message IDs, e.g. to drop duplicates.
type ring struct {
	mu   sync.Mutex
	next int
	refs [ringSize][]byte       // used by the leaky op
	ids  [ringSize][idSize]byte // used by the clean op
}

var recent = new(ring)

func (r *ring) rememberRef(id []byte) {
	r.mu.Lock()
	r.refs[r.next%ringSize] = id
	r.next++
	r.mu.Unlock()
}

func (r *ring) rememberCopy(id []byte) {
	r.mu.Lock()
	copy(r.ids[r.next%ringSize][:], id)
	r.next++
	r.mu.Unlock()
}
