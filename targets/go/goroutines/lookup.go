package main

import "sync"

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
// receiving; the channel is then garbage. The worker may still be queued
// when the call returns, so the settled goroutine count is exact but the
// heap shows the goroutine high-water mark (see lookupDone).
func lookupBuffered(in []byte) int {
	ch := make(chan int, 1)
	go func(n int) { ch <- n }(checksum(in))
	if isSlow(in) {
		return -1
	}
	return <-ch
}

// lookupDone: the worker gives up too once the caller has stopped listening,
// and the caller waits for it to have done so. Without the wait the worker
// outlives the call for a moment, and workers piling up between scheduler
// runs raise the runtime's high-water mark of goroutine structs, which it
// never frees: heap that steps up now and then without a leak.
func lookupDone(in []byte) int {
	ch := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	wg.Add(1)
	go func(n int) {
		defer wg.Done()
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
