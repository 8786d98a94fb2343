package cmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interrupts implements the two-stage Ctrl-C: the first signal closes stop
// (no new work is scheduled; in-flight installs finish), the second cancels
// the returned context (everything aborts). notify tells the user; it is
// called from the signal goroutine, so it must be safe against concurrent
// output (the observer's notice is). release undoes it all.
func interrupts(parent context.Context, notify func(string)) (ctx context.Context, stop <-chan struct{}, release func()) {
	ctx, cancel := context.WithCancel(parent)
	stopCh := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		n := 0
		for {
			select {
			case <-done:
				return
			case <-sigs:
				n++
				if n == 1 {
					notify("interrupt: no new work will start; in-flight installs and reboots are finishing (press Ctrl-C again to abort them)")
					close(stopCh)
					continue
				}
				notify("second interrupt: aborting in-flight work")
				cancel()
				return
			}
		}
	}()
	return ctx, stopCh, func() {
		signal.Stop(sigs)
		close(done)
		<-finished
		cancel()
	}
}
