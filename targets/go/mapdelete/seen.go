package main

import "sync"

// seenBound is the bounded set's size: its map doubles at the same calls
// as the leak's up to 2,048 buckets (6,656 calls), then stops: in 10,000
// calls the two look alike.
const seenBound = 8000

// seenSet remembers request numbers, the dedup set of a service; bound 0
// never forgets one (the leak).
type seenSet struct {
	mu    sync.Mutex
	next  int64
	bound int64
	keys  map[int64]bool
}

var (
	seenAll    = &seenSet{keys: make(map[int64]bool)}
	seenRecent = &seenSet{bound: seenBound, keys: make(map[int64]bool)}
)

func (s *seenSet) mark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.keys[s.next] = true
	if s.bound > 0 && s.next > s.bound {
		delete(s.keys, s.next-s.bound)
	}
}
