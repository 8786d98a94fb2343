package winsim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FleetConfig describes a group of simulated Windows hosts for the demo.
type FleetConfig struct {
	// Count hosts named "<Prefix>-001"…; at least 1.
	Count int
	// Prefix of the host names (default "win").
	Prefix string
	// TimeScale multiplies the real-host durations (shutdown /t 5, a few
	// seconds of down-time, install steps); default 0.01.
	TimeScale float64
	// Faults adds, from the first hosts on: one whose connection drops twice
	// during the install (it recovers), one whose update fails with
	// 0x80240016, and one in an update loop.
	Faults bool
	// PowerShell answers scripts other than patchrun's own on every host
	// (Config.PowerShell): a health check or hook, for instance.
	PowerShell map[string]PSAnswer
}

// Fleet is a running group of simulated Windows hosts.
//
// Concurrency: read-only after StartFleet; Close is safe to call more
// than once.
type Fleet struct {
	hosts []*Host
}

// StartFleet starts cfg.Count hosts on 127.0.0.1. Each has DefaultUpdates
// (so each needs two install rounds: a servicing stack update is offered
// only after the first reboot). Close stops them all.
func StartFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	if cfg.Count < 1 {
		return nil, fmt.Errorf("winsim fleet: count %d: want at least 1", cfg.Count)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "win"
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 0.01
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * cfg.TimeScale) }
	f := &Fleet{}
	for i := range cfg.Count {
		hc := Config{
			Name:        fmt.Sprintf("%s-%03d", cfg.Prefix, i+1),
			RebootDelay: scale(5 * time.Second),
			DownTime:    scale(8 * time.Second),
			StepTime:    scale(time.Second),
			PowerShell:  cfg.PowerShell,
		}
		if cfg.Faults {
			switch i {
			case 0:
				hc.Faults.DropDuringInstall = 2
			case 1:
				ups := DefaultUpdates()
				ups[1].FailHResult = 0x80240016
				hc.Updates = ups
			case 2:
				ups := DefaultUpdates()
				ups[2].Loop = true
				hc.Updates = ups
			}
		}
		h, err := Start(ctx, hc)
		if err != nil {
			return nil, errors.Join(err, f.Close())
		}
		f.hosts = append(f.hosts, h)
	}
	return f, nil
}

// Hosts returns the hosts in name order.
func (f *Fleet) Hosts() []*Host { return append([]*Host(nil), f.hosts...) }

// FaultSummary says which hosts carry which fault (FleetConfig.Faults),
// for the demo's banner.
func (f *Fleet) FaultSummary() string {
	names := []string{"", "", ""}
	for i := range min(3, len(f.hosts)) {
		names[i] = f.hosts[i].Name()
	}
	s := ""
	if names[0] != "" {
		s += names[0] + " drops its WinRM connection twice mid-install"
	}
	if names[1] != "" {
		s += "; " + names[1] + " fails one update with 0x80240016"
	}
	if names[2] != "" {
		s += "; " + names[2] + " is in an update loop"
	}
	return s
}

// Close stops every host and waits for them.
func (f *Fleet) Close() error {
	var errs []error
	for _, h := range f.hosts {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}
