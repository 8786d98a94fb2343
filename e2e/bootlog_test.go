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

// window is when a reboot batch's hosts were off: from the first host going
// down to the last one coming back (0 if none came back).
type window struct{ firstDown, lastUp float64 }

// batchWindows groups down/up events by each host's reboot batch.
func batchWindows(evs []bootEvent, batchOf map[string]int) map[int]window {
	w := map[int]window{}
	for _, ev := range evs {
		b, ok := batchOf[ev.host]
		if !ok {
			continue
		}
		cur := w[b]
		switch {
		case !ev.up && (cur.firstDown == 0 || ev.at < cur.firstDown):
			cur.firstDown = ev.at
		case ev.up && ev.at > cur.lastUp:
			cur.lastUp = ev.at
		}
		w[b] = cur
	}
	return w
}

// overlappingBatches names consecutive batches where batch k+1 went down
// before every host of batch k was back.
func overlappingBatches(w map[int]window) []string {
	var bad []string
	for b := 1; ; b++ {
		cur, ok1 := w[b]
		next, ok2 := w[b+1]
		if !ok1 || !ok2 {
			return bad
		}
		if next.firstDown < cur.lastUp {
			bad = append(bad, fmt.Sprintf("batch %d went down at %.2f before batch %d was back at %.2f", b+1, next.firstDown, b, cur.lastUp))
		}
	}
}

func TestBatchWindows(t *testing.T) {
	log := "1 h01 down\n2 h02 down\n4 h01 up a\n5 h02 up b\n6 h03 down\n8 h03 up c\n"
	evs, err := parseBootLog(log)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		batchOf     map[string]int
		want        map[int]window
		wantOverlap int
	}{
		{"two batches in turn", map[string]int{"h01": 1, "h02": 1, "h03": 2},
			map[int]window{1: {1, 5}, 2: {6, 8}}, 0},
		{"second batch started early", map[string]int{"h01": 1, "h02": 2, "h03": 3},
			map[int]window{1: {1, 4}, 2: {2, 5}, 3: {6, 8}}, 1},
		{"hosts outside any batch ignored", map[string]int{"h03": 1},
			map[int]window{1: {6, 8}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := batchWindows(evs, tt.batchOf)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("batchWindows = %v, want %v", got, tt.want)
			}
			if bad := overlappingBatches(got); len(bad) != tt.wantOverlap {
				t.Errorf("overlappingBatches = %q, want %d", bad, tt.wantOverlap)
			}
		})
	}
}
