package e2e

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// bootEvent is one line of the lab's boots.log, written by the host's init
// ("TIME HOST up BOOTID") and its supervisor ("TIME HOST down").
type bootEvent struct {
	at     float64 // unix seconds
	host   string
	up     bool
	bootID string
}

func parseBootLog(data string) ([]bootEvent, error) {
	var evs []bootEvent
	for i, line := range strings.Split(strings.TrimSpace(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("boot log line %d: %q: too few fields", i+1, line)
		}
		at, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("boot log line %d: %q: bad time", i+1, line)
		}
		ev := bootEvent{at: at, host: f[1]}
		switch {
		case f[2] == "up" && len(f) == 4:
			ev.up, ev.bootID = true, f[3]
		case f[2] == "down" && len(f) == 3:
		default:
			return nil, fmt.Errorf("boot log line %d: %q: want up BOOTID or down", i+1, line)
		}
		evs = append(evs, ev)
	}
	// Lines come from many processes appending; order them by time.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	return evs, nil
}

// maxDown is the largest number of hosts that were down at the same time.
func maxDown(evs []bootEvent) int {
	down := map[string]bool{}
	most := 0
	for _, ev := range evs {
		down[ev.host] = !ev.up
		n := 0
		for _, d := range down {
			if d {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// reboots counts the down events per host.
func reboots(evs []bootEvent) map[string]int {
	n := map[string]int{}
	for _, ev := range evs {
		if !ev.up {
			n[ev.host]++
		}
	}
	return n
}

func TestParseBootLog(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		want    []bootEvent
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"ordered by time", "2.5 h02 down\n1.0 h01 up abc\n", []bootEvent{
			{at: 1.0, host: "h01", up: true, bootID: "abc"},
			{at: 2.5, host: "h02"},
		}, false},
		{"up without boot id", "1.0 h01 up\n", nil, true},
		{"bad time", "x h01 down\n", nil, true},
		{"unknown word", "1.0 h01 sideways\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBootLog(tt.log)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMaxDown(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want int
	}{
		{"no reboots", "1 h01 up a\n1 h02 up b\n", 0},
		{"sequential", "1 h01 down\n2 h01 up c\n3 h02 down\n4 h02 up d\n", 1},
		{"overlapping", "1 h01 down\n2 h02 down\n3 h03 down\n4 h01 up c\n5 h04 down\n6 h02 up d\n", 3},
		{"never back counts until the end", "1 h01 down\n2 h02 down\n3 h02 up x\n4 h03 down\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := parseBootLog(tt.log)
			if err != nil {
				t.Fatal(err)
			}
			if got := maxDown(evs); got != tt.want {
				t.Errorf("maxDown = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestReboots(t *testing.T) {
	evs, err := parseBootLog("1 h01 down\n2 h01 up a\n3 h01 down\n4 h02 down\n5 h01 up b\n")
	if err != nil {
		t.Fatal(err)
	}
	got := reboots(evs)
	if got["h01"] != 2 || got["h02"] != 1 || len(got) != 2 {
		t.Errorf("reboots = %v, want h01:2 h02:1", got)
	}
}
