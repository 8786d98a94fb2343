package runner

import (
	"sync"
	"time"
)

// emitter stamps events and hands them to the observer one at a time.
// Concurrency: safe for concurrent use; the mutex is what lets observers work
// without locks of their own.
type emitter struct {
	mu  sync.Mutex
	obs Observer
	now func() time.Time
}

func (e *emitter) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	if e.obs == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.obs.Event(ev)
}
