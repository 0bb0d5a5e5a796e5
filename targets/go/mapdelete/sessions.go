package main

import (
	"strconv"
	"sync"
)

// stateSize is the per-session scratch state; large enough that a leaked
// session stands well above Go's per-call noise.
const stateSize = 512

type session struct {
	id    uint64
	token string
	state [stateSize]byte
}

// sessions is indexed twice: by ID for the server, by token for clients.
type sessions struct {
	mu      sync.Mutex
	next    uint64
	byID    map[uint64]*session
	byToken map[string]*session
}

func newSessions() *sessions {
	return &sessions{
		byID:    make(map[uint64]*session),
		byToken: make(map[string]*session),
	}
}

func (s *sessions) open(in []byte) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	ss := &session{id: s.next, token: "tok-" + strconv.FormatUint(s.next, 36)}
	copy(ss.state[:], in)
	s.byID[ss.id] = ss
	s.byToken[ss.token] = ss
	return ss
}

// closeByIDOnly is the bug: it forgets the second index.
func (s *sessions) closeByIDOnly(id uint64) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

func (s *sessions) close(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.byID[id]; ok {
		delete(s.byToken, ss.token)
		delete(s.byID, id)
	}
}

func (s *sessions) openCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
