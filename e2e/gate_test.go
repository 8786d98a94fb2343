package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// labMode decides whether the lab tests run. CI must never skip them
// silently: under CI=true they run, and fail if they cannot.
func labMode(getenv func(string) string, euid int) (run bool, problem string) {
	wanted := getenv("PATCHRUN_LAB") == "1" || getenv("CI") == "true"
	if !wanted {
		return false, "e2e lab tests skipped: run them as root with PATCHRUN_LAB=1 (see lab/README.md, or lab/ci.sh)"
	}
	if euid != 0 {
		return true, "e2e lab tests need root (namespaces, mounts); run them with sudo or in CI"
	}
	return true, ""
}

// labHostCount is the number of lab hosts (PATCHRUN_LAB_HOSTS, default 20).
func labHostCount(getenv func(string) string) (int, error) {
	s := getenv("PATCHRUN_LAB_HOSTS")
	if s == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 6 || n > 500 {
		return 0, fmt.Errorf("PATCHRUN_LAB_HOSTS=%q: want a number from 6 to 500", s)
	}
	return n, nil
}

// requireLab skips (laptop) or fails (CI, not root) as labMode says.
func requireLab(t *testing.T) int {
	t.Helper()
	run, problem := labMode(os.Getenv, os.Geteuid())
	if !run {
		t.Skip(problem)
	}
	if problem != "" {
		t.Fatal(problem)
	}
	n, err := labHostCount(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLabMode(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		euid        int
		wantRun     bool
		wantProblem bool
	}{
		{"laptop skips", map[string]string{}, 1000, false, true},
		{"laptop as root still skips", map[string]string{}, 0, false, true},
		{"opt in as root runs", map[string]string{"PATCHRUN_LAB": "1"}, 0, true, false},
		{"opt in without root fails", map[string]string{"PATCHRUN_LAB": "1"}, 1000, true, true},
		{"CI runs", map[string]string{"CI": "true"}, 0, true, false},
		{"CI without root fails instead of skipping", map[string]string{"CI": "true"}, 1000, true, true},
		{"PATCHRUN_LAB=0 is no opt in", map[string]string{"PATCHRUN_LAB": "0"}, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, problem := labMode(func(k string) string { return tt.env[k] }, tt.euid)
			if run != tt.wantRun || (problem != "") != tt.wantProblem {
				t.Errorf("labMode = (%v, %q), want run=%v problem=%v", run, problem, tt.wantRun, tt.wantProblem)
			}
		})
	}
}

func TestLabHostCount(t *testing.T) {
	tests := []struct {
		val     string
		want    int
		wantErr bool
	}{
		{"", 20, false},
		{"50", 50, false},
		{"6", 6, false},
		{"5", 0, true}, // the fault tests need six distinct hosts
		{"many", 0, true},
	}
	for _, tt := range tests {
		got, err := labHostCount(func(string) string { return tt.val })
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("labHostCount(%q) = %d, %v; want %d, err=%v", tt.val, got, err, tt.want, tt.wantErr)
		}
	}
}
