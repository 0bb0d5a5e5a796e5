package main

import (
	"container/list"
	"strconv"
	"sync"
	"sync/atomic"
)

// responseSize is the rendered size of one cached response; with the key
// and map/list overhead an entry costs a little over 300 bytes of Go heap,
// well above the few bytes per call that clean Go code creeps by.
const responseSize = 256

// render is the expensive work a cache saves: a response derived from the
// input.
func render(in []byte) []byte {
	out := make([]byte, responseSize)
	for i := range out {
		if len(in) > 0 {
			out[i] = in[i%len(in)] ^ byte(i)
		}
	}
	return out
}

// isPinned compares the first four bytes as one string so the compiler
// emits a single 4-byte compare, which fuzzers instrument and can solve.
func isPinned(in []byte) bool {
	return len(in) >= 4 && string(in[:4]) == "KEEP"
}

// isSession is isPinned's twin for OpCacheInternGated.
func isSession(in []byte) bool {
	return len(in) >= 4 && string(in[:4]) == "SESS"
}

// sessionKey is OpSessionKeyed's gate and key: "SESS", an 8-byte key, then
// a payload of 4 bytes at least.
func sessionKey(in []byte) (string, bool) {
	if len(in) < 16 || string(in[:4]) != "SESS" {
		return "", false
	}
	return string(in[4:12]), true
}

// sessionStateSize is the state OpSessionKeyed keeps per key: with the key
// and the map's share an entry costs ~150 bytes.
const sessionStateSize = 96

// sessionState is the state derived from a session request.
func sessionState(in []byte) []byte {
	out := make([]byte, sessionStateSize)
	for i := range out {
		out[i] = in[i%len(in)] ^ byte(i)
	}
	return out
}

var arrivals atomic.Int64

// requestKey is the bug behind OpCacheLeak: the arrival number makes every
// request a new key.
func requestKey(in []byte) string {
	return string(in) + "#" + strconv.FormatInt(arrivals.Add(1), 10)
}

// memo is a map that only grows.
type memo struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemo() *memo { return &memo{m: make(map[string][]byte)} }

func (c *memo) getOrAdd(key string, build func() []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[key]; ok {
		return v
	}
	v := build()
	c.m[key] = v
	return v
}

func (c *memo) add(key string, v []byte) {
	c.mu.Lock()
	c.m[key] = v
	c.mu.Unlock()
}

func (c *memo) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// lruCache is a bounded least-recently-used cache.
type lruCache struct {
	mu    sync.Mutex
	cap   int
	order *list.List // front is most recent; values are *entry
	m     map[string]*list.Element
}

type entry struct {
	key string
	val []byte
}

func newLRU(capacity int) *lruCache {
	return &lruCache{cap: capacity, order: list.New(), m: make(map[string]*list.Element)}
}

func (c *lruCache) getOrAdd(key string, build func() []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry).val
	}
	v := build()
	c.m[key] = c.order.PushFront(&entry{key: key, val: v})
	if c.order.Len() > c.cap {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.m, oldest.Value.(*entry).key)
	}
	return v
}

func (c *lruCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
