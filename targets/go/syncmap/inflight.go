package main

import (
	"sync"
	"sync/atomic"
)

// bufSize is the per-request buffer: 1 KiB leaked per OpSyncMapLeak call,
// so 20,000 calls retain ~20 MB.
const bufSize = 1 << 10

var (
	inflight sync.Map // request id -> *[]byte
	nextID   atomic.Uint64
	pool     = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}
	sink     atomic.Uint64 // keeps process's result observable
)

// begin gives the request an id and a buffer and registers both, e.g. so a
// debug endpoint can list requests in flight.
func begin(in []byte) (uint64, []byte) {
	id := nextID.Add(1)
	buf := make([]byte, bufSize)
	copy(buf, in)
	inflight.Store(id, &buf)
	return id, buf
}

func process(buf []byte) {
	var h uint64
	for _, b := range buf {
		h = h*131 + uint64(b)
	}
	sink.Add(h)
}
