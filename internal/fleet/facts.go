package fleet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Facts the simulated hosts answer beyond os-release and the kernel: an
// uptime of days at the first boot, the time packages were last installed
// (dpkg.log on apt distros, rpm INSTALLTIME elsewhere; moved by every
// install) and a private IPv4 and ULA IPv6 address per host, in the output
// formats of the real tools (patch/unix/testdata/facts).

// seedFactsLocked picks the host's first-boot age, last-install time and
// address octet from its rng, so a seeded fleet repeats them.
func (h *SimHost) seedFactsLocked(now time.Time) {
	h.firstBootAge = time.Duration(2+h.rng.IntN(60))*24*time.Hour + time.Duration(h.rng.IntN(86400))*time.Second
	h.lastInstall = now.Add(-h.firstBootAge - time.Duration(1+h.rng.IntN(20*86400))*time.Second).Truncate(time.Second)
	h.addrOctet = 10 + h.rng.IntN(240)
}

// dpkgLogLocked is /var/log/dpkg.log as dpkg writes it (local time; the
// simulated hosts run in UTC): the last install's upgrade and status lines.
func (h *SimHost) dpkgLogLocked() string {
	ts := h.lastInstall.UTC().Format("2006-01-02 15:04:05")
	pkg, old, cur := "libc6", "2.36-9+deb12u7", "2.36-9+deb12u9"
	if h.lastPkg != "" {
		pkg, old, cur = h.lastPkg, h.lastOld, h.lastNew
	}
	return fmt.Sprintf("%s startup archives unpack\n%s upgrade %s:amd64 %s %s\n%s status half-configured %s:amd64 %s\n%s status installed %s:amd64 %s\n",
		ts, ts, pkg, old, cur, ts, pkg, cur, ts, pkg, cur)
}

// noteInstallLocked records an install for dpkg.log and rpm INSTALLTIME.
func (h *SimHost) noteInstallLocked(s txStep) {
	h.lastInstall = time.Now().UTC().Truncate(time.Second)
	h.lastPkg, h.lastOld, h.lastNew = s.U.Name, s.Old, s.U.Version
	if h.lastOld == "" {
		h.lastOld = "<none>"
	}
}

// progIP answers `ip -o addr show` (`ip addr` works too, on one line per
// address as with -o), as iproute2 prints it.
func progIP(_ context.Context, p *proc) int {
	args := p.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	if len(args) == 0 || (args[0] != "addr" && args[0] != "a" && args[0] != "address") {
		p.errf("Object \"%s\" is unknown, try \"ip help\".\n", strings.Join(args, " "))
		return 255
	}
	p.h.mu.Lock()
	o := p.h.addrOctet
	p.h.mu.Unlock()
	p.outf("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n")
	p.outf("1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever\n")
	p.outf("2: eth0    inet 10.20.0.%d/24 brd 10.20.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n", o)
	p.outf("2: eth0    inet6 fd00:20::%x/64 scope global \\       valid_lft forever preferred_lft forever\n", o)
	p.outf("2: eth0    inet6 fe80::5054:ff:fe12:%x/64 scope link \\       valid_lft forever preferred_lft forever\n", o)
	return 0
}

// inputs opens the named files (or stdin for none or "-"), reporting
// missing ones as the real tools do; it returns their text.
func (p *proc) inputs(prog string, files []string, quiet bool) ([]string, int) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var out []string
	code := 0
	for _, f := range files {
		if f == "-" {
			b, _ := io.ReadAll(p.io.in)
			out = append(out, string(b))
			continue
		}
		p.h.mu.Lock()
		data, ok := p.h.readFileLocked(f)
		p.h.mu.Unlock()
		if !ok {
			if !quiet {
				p.errf("%s: %s: No such file or directory\n", prog, f)
			}
			code = 2
			continue
		}
		out = append(out, data)
	}
	return out, code
}

func lines(texts []string) []string {
	var out []string
	for _, t := range texts {
		sc := bufio.NewScanner(strings.NewReader(t))
		for sc.Scan() {
			out = append(out, sc.Text())
		}
	}
	return out
}

// progGrep: grep [-h] [-E] [-s] PATTERN [FILE…] (extended regular
// expressions either way; exit 1 when nothing matched).
func progGrep(_ context.Context, p *proc) int {
	var pattern string
	var files []string
	havePattern, quiet := false, false
	for _, a := range p.args[1:] {
		switch {
		case strings.HasPrefix(a, "-") && len(a) > 1 && !havePattern:
			quiet = quiet || strings.Contains(a, "s")
		case !havePattern:
			pattern, havePattern = a, true
		default:
			files = append(files, a)
		}
	}
	re, err := regexp.Compile(pattern)
	if !havePattern || err != nil {
		p.errf("grep: bad pattern\n")
		return 2
	}
	texts, code := p.inputs("grep", files, quiet)
	matched := false
	for _, l := range lines(texts) {
		if re.MatchString(l) {
			p.outf("%s\n", l)
			matched = true
		}
	}
	switch {
	case code != 0 && !matched:
		return code
	case !matched:
		return 1
	}
	return 0
}

// progTail: tail [-n N] [FILE…].
func progTail(_ context.Context, p *proc) int {
	n, files := 10, []string(nil)
	args := p.args[1:]
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-n" && i+1 < len(args):
			i++
			n, _ = strconv.Atoi(args[i])
		case strings.HasPrefix(a, "-n"):
			n, _ = strconv.Atoi(a[2:])
		default:
			files = append(files, a)
		}
	}
	texts, code := p.inputs("tail", files, false)
	ls := lines(texts)
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	for _, l := range ls {
		p.outf("%s\n", l)
	}
	return code
}

// progSort: sort [-n] [-r] [FILE…].
func progSort(_ context.Context, p *proc) int {
	numeric, reverse := false, false
	var files []string
	for _, a := range p.args[1:] {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			numeric = numeric || strings.Contains(a, "n")
			reverse = reverse || strings.Contains(a, "r")
			continue
		}
		files = append(files, a)
	}
	texts, code := p.inputs("sort", files, false)
	ls := lines(texts)
	less := func(a, b string) bool { return a < b }
	if numeric {
		less = func(a, b string) bool {
			x, _ := strconv.ParseFloat(strings.TrimSpace(a), 64)
			y, _ := strconv.ParseFloat(strings.TrimSpace(b), 64)
			return x < y
		}
	}
	sort.SliceStable(ls, func(i, j int) bool {
		if reverse {
			return less(ls[j], ls[i])
		}
		return less(ls[i], ls[j])
	})
	for _, l := range ls {
		p.outf("%s\n", l)
	}
	return code
}
