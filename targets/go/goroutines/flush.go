package main

import (
	"sync/atomic"
	"time"
)

// flushDelay is how long after the call a flush runs.
const flushDelay = 300 * time.Millisecond

// flushed counts background flushes done.
var flushed int64

// flushLater writes the request back in the background after a delay: the
// goroutine ends, later than the step returns.
func flushLater(d time.Duration) {
	go func() {
		time.Sleep(d)
		atomic.AddInt64(&flushed, 1)
	}()
}

// flushCalls counts flushLaterLeaky calls.
var flushCalls int64

// flushLaterLeaky also parks every 10th request on a channel nobody sends
// to: a leak among in-flight goroutines.
func flushLaterLeaky(d time.Duration) {
	flushLater(d)
	if atomic.AddInt64(&flushCalls, 1)%10 == 0 {
		reply := make(chan int)
		go func() { <-reply }()
	}
}
