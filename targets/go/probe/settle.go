package probe

import (
	"runtime"
	"time"
)

// settleBudget bounds the waiting part of settle (the GCs themselves are not
// bounded: they take what the heap takes, ~2 ms on a small heap).
const settleBudget = 50 * time.Millisecond

// stableReads is how many consecutive equal NumGoroutine reads count as
// settled. Goroutines that have returned, or were started and not yet run,
// are still counted for a moment, so a single read right after a burst of
// work reads high.
const stableReads = 3

// settle brings the runtime to a state where memory and goroutine counts
// reflect what is really retained.
func settle() {
	deadline := time.Now().Add(settleBudget)

	// An object with a finalizer survives the GC that finds it unreachable;
	// its finalizer runs afterwards on the finalizer goroutine, and only the
	// next GC frees it. Waiting for a sentinel finalizer between the two GCs
	// means objects found dead by the first GC are freed by the second,
	// instead of showing up as heap that a later sample sees disappear.
	done := queueSentinel()
	runtime.GC()
	waitFinalizers(done, deadline)
	runtime.GC()

	waitGoroutines(deadline)
}

// sentinel has a pointer field so it is never served by the tiny allocator:
// a tiny-allocated object may share its block with live data, and then its
// finalizer never runs.
type sentinel struct {
	_ *int
	_ [8]byte
}

// queueSentinel drops an object whose finalizer closes the returned channel,
// so the next GC queues that finalizer alongside everyone else's.
func queueSentinel() <-chan struct{} {
	done := make(chan struct{})
	runtime.SetFinalizer(new(sentinel), func(*sentinel) { close(done) })
	return done
}

// waitFinalizers waits for the sentinel's finalizer. Finalizers run one at a
// time on the finalizer goroutine, which takes a GC's whole queue as a
// batch, so by then the rest of the batch is running or about to. A
// finalizer that still misses the second GC is freed by the next settle:
// bounded noise, never a trend.
func waitFinalizers(done <-chan struct{}, deadline time.Time) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop() // an unstopped timer would itself linger until it fires
	select {
	case <-done:
	case <-t.C:
	}
}

// waitGoroutines polls until the goroutine count has stopped changing.
// Short sleeps, not just Gosched, so goroutines on other threads get to run
// and exit.
func waitGoroutines(deadline time.Time) {
	last, same := runtime.NumGoroutine(), 0
	for same < stableReads && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
		if n := runtime.NumGoroutine(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
}
