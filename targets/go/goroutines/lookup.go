package main

// The three lookups below hand the work to a goroutine and wait for its
// answer, except for "slow" requests, where the caller stops waiting at
// once (standing in for a timeout that always fires). They differ only in
// what happens to the worker when nobody waits.

// isSlow compares the first four bytes as one string so the compiler emits
// a single 4-byte compare, which fuzzers instrument and can solve.
func isSlow(in []byte) bool {
	return len(in) >= 4 && string(in[:4]) == "SLOW"
}

// checksum is the "work": cheap, but it reads the input so the goroutine
// has something to send.
func checksum(in []byte) int {
	h := 17
	for _, b := range in {
		h = h*31 + int(b)
	}
	return h
}

// lookupLeaky: unbuffered channel, so once the caller gives up the worker's
// send can never complete.
func lookupLeaky(in []byte) int {
	ch := make(chan int)
	go func(n int) { ch <- n }(checksum(in))
	if isSlow(in) {
		return -1
	}
	return <-ch
}

// lookupBuffered: a buffer of one lets the send complete with nobody
// receiving; the channel is then garbage.
func lookupBuffered(in []byte) int {
	ch := make(chan int, 1)
	go func(n int) { ch <- n }(checksum(in))
	if isSlow(in) {
		return -1
	}
	return <-ch
}

// lookupDone: the worker gives up too once the caller has stopped listening.
func lookupDone(in []byte) int {
	ch := make(chan int)
	done := make(chan struct{})
	defer close(done)
	go func(n int) {
		select {
		case ch <- n:
		case <-done:
		}
	}(checksum(in))
	if isSlow(in) {
		return -1
	}
	return <-ch
}
