package main

import "sync/atomic"

// bufSize is each end's buffer; a leaked pair is ~600 bytes of Go heap.
const bufSize = 256

type conn struct {
	peer *conn
	buf  []byte
}

// handle owns a conn pair from outside the cycle.
type handle struct{ c *conn }

// released counts finalizer runs, so the clean twin's cleanup is observable.
var released atomic.Int64

func pipe(in []byte) (*conn, *conn) {
	a := &conn{buf: make([]byte, bufSize)}
	b := &conn{buf: make([]byte, bufSize), peer: a}
	a.peer = b
	copy(a.buf, in)
	return a, b
}

func (c *conn) release() { released.Add(1) }

func (h *handle) release() { h.c.release() }
