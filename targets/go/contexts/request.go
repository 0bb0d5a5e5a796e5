package main

import (
	"context"
	"sync/atomic"
)

// server lives for the whole process, like a server's base context.
var server, _ = context.WithCancel(context.Background())

// scratchSize is the per-request state the context carries; with it a leaked
// request is a few hundred bytes of Go heap.
const scratchSize = 256

type requestKey struct{}

type requestState struct {
	body    []byte
	scratch [scratchSize]byte
}

type request struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newRequest(in []byte) *request {
	st := &requestState{body: append([]byte(nil), in...)}
	ctx := context.WithValue(server, requestKey{}, st)
	ctx, cancel := context.WithCancel(ctx)
	return &request{ctx: ctx, cancel: cancel}
}

func (r *request) close() { r.cancel() }

var handled atomic.Int64

func handle(r *request) {
	st := r.ctx.Value(requestKey{}).(*requestState)
	st.scratch[0] = byte(len(st.body))
	handled.Add(1)
}
