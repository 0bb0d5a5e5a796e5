package main

import (
	"sync"
	"time"
)

// serve stands in for request handling that would select on the heartbeat;
// a request here finishes before the first tick.
func serve(in []byte, tick <-chan time.Time) int {
	select {
	case <-tick:
		return -1
	default:
		return len(in)
	}
}

// wait serves a request under a deadline. Deliberate bug when not stopped:
// time.After's timer (with its channel and its slot in the timer heap, three
// allocations, none the larger part) lives until it fires, an hour on.
// Stopped, the timer leaves the heap with the request.
func wait(in []byte, stop bool) int {
	var deadline <-chan time.Time
	if stop {
		t := time.NewTimer(heartbeat)
		defer t.Stop()
		deadline = t.C
	} else {
		deadline = time.After(heartbeat)
	}
	return serve(in, deadline)
}

var (
	expiredMu sync.Mutex
	expired   int
)

// expire is what the timers would do if they ever fired.
func expire(key string) {
	expiredMu.Lock()
	expired += len(key)
	expiredMu.Unlock()
}
