package ssh

import (
	"fmt"
	"time"
)

// keepalive sends keepalive@openssh.com every interval. When an answer does
// not come within countMax intervals the peer is presumed dead (host
// powered off, link cut): the connection is closed so in-flight commands
// fail with ErrConnLost instead of hanging. It returns at Close or when the
// connection ends.
func (c *Client) keepalive(interval time.Duration, countMax int) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if !c.probe(time.Duration(countMax) * interval) {
			return
		}
		t.Reset(interval)
	}
}

// probe sends one keepalive and waits up to timeout for any answer (OpenSSH
// servers answer "failure", which proves they are alive just as well). It
// reports whether the connection is still usable.
func (c *Client) probe(timeout time.Duration) bool {
	answered := make(chan error, 1)
	started := c.spawn(func() {
		// Returns when the answer arrives or the connection closes.
		_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err
	})
	if !started {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-answered:
		return err == nil
	case <-c.done:
		return false
	case <-t.C:
		c.mu.Lock()
		c.lost = fmt.Errorf("no answer to keepalives for %s", timeout)
		c.mu.Unlock()
		c.ssh.Close()
		return false
	}
}
