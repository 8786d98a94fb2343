package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interrupts implements the two-stage stop. The first SIGINT (Ctrl-C),
// SIGTERM or SIGHUP closes stop: no new work is scheduled, in-flight
// installs and reboots finish, and the result is still written. A second
// SIGINT or SIGTERM cancels the returned context (everything aborts).
// SIGHUP never aborts: a dropped terminal or SSH session can deliver it
// twice (the kernel to the foreground job, the shell to every job), and the
// work in flight must still finish. notify tells the user, naming the
// signal; it is called from the signal goroutine, so it must be safe
// against concurrent output (the observer's notice is). release undoes it
// all.
func interrupts(parent context.Context, notify func(string)) (ctx context.Context, stop <-chan struct{}, release func()) {
	ctx, cancel := context.WithCancel(parent)
	stopCh := make(chan struct{})
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		stopped := false
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				name, abort := describeSignal(sig)
				switch {
				case !stopped:
					stopped = true
					notify(fmt.Sprintf("%s: no new work will start; in-flight installs and reboots are finishing (%s to abort them)", name, abort))
					close(stopCh)
				case sig == syscall.SIGHUP:
					notify(name + " again: ignored; in-flight work is still finishing (send SIGTERM to abort it)")
				default:
					notify(fmt.Sprintf("second signal, %s: aborting in-flight work", name))
					cancel()
					return
				}
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

// describeSignal names a signal as a user knows it, and says how to
// abort after it.
func describeSignal(sig os.Signal) (name, abort string) {
	switch sig {
	case os.Interrupt:
		return "interrupt (SIGINT, Ctrl-C)", "press Ctrl-C again"
	case syscall.SIGTERM:
		return "SIGTERM", "send SIGTERM again"
	case syscall.SIGHUP:
		return "SIGHUP (terminal or session closed)", "send SIGTERM"
	}
	return sig.String(), "send SIGTERM"
}
