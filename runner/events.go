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

// emit stamps ev under the lock, so observers see times in delivery order.
func (e *emitter) emit(ev Event) {
	if e.obs == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	e.obs.Event(ev)
}
