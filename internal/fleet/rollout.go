package fleet

import (
	"context"
	"strings"
)

// Every simulated host has two programs for health checks and hooks
// (patch --health-cmd, --pre-cmd, --post-cmd):
//
//	health-check      prints "<host>: healthy" and exits 0; exits 1 with
//	                  "<host>: unhealthy: …" on stderr while the host's
//	                  Faults.Unhealthy is set or Faults.UnhealthyChecks > 0
//	                  (each failed check uses one up)
//	hook NAME [ARG…]  prints "<host>: hook NAME ran" and exits 0, or exits
//	                  1 when NAME is the host's Faults.FailHook; every call
//	                  is recorded (SimHost.Hooks)

func progHealthCheck(_ context.Context, p *proc) int {
	h := p.h
	h.mu.Lock()
	h.healthChecks++
	bad := h.faults.Unhealthy || h.faults.UnhealthyChecks > 0
	if h.faults.UnhealthyChecks > 0 {
		h.faults.UnhealthyChecks--
	}
	h.mu.Unlock()
	if bad {
		p.errf("%s: unhealthy: the application answers 503\n", h.name)
		return 1
	}
	p.outf("%s: healthy\n", h.name)
	return 0
}

func progHook(_ context.Context, p *proc) int {
	if len(p.args) < 2 {
		p.errf("usage: hook NAME [ARG...]\n")
		return 2
	}
	h := p.h
	name := p.args[1]
	h.mu.Lock()
	h.hooks = append(h.hooks, strings.Join(p.args[1:], " "))
	fail := h.faults.FailHook != "" && h.faults.FailHook == name
	h.mu.Unlock()
	if fail {
		p.errf("%s: hook %s failed: the load balancer refused\n", h.name, name)
		return 1
	}
	p.outf("%s: hook %s ran\n", h.name, name)
	return 0
}

// Hooks lists the hook commands the host ran (their arguments after
// "hook"), in order.
func (h *SimHost) Hooks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.hooks...)
}

// HealthChecks counts the health-check commands the host ran.
func (h *SimHost) HealthChecks() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.healthChecks
}
