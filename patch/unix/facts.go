package unix

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// hostFacts is what CmdProbe's facts sections say, beyond detection.
type hostFacts struct {
	arch        string
	uptime      time.Duration // 0: unknown
	lastUpdated time.Time     // zero: unknown
	addresses   []string
}

// parseHostFacts reads the facts sections of a split CmdProbe output.
// dpkg.log times are local to the host: tz (date +%z) places them.
func parseHostFacts(s map[string]string) hostFacts {
	f := hostFacts{
		arch:      firstLine(s[SectionArch]),
		uptime:    parseUptime(firstLine(s[SectionUptime])),
		addresses: parseAddresses(s[SectionAddresses]),
	}
	tz := parseTZ(firstLine(s[SectionTZ]))
	if t, ok := parseDpkgLogTime(firstLine(s[SectionDpkgLast]), tz); ok {
		f.lastUpdated = t
	} else if t, ok := parsePacmanLogTime(firstLine(s[SectionPacmanLast]), tz); ok {
		f.lastUpdated = t
	} else if t, ok := parseEpoch(firstLine(s[SectionRPMLast])); ok {
		f.lastUpdated = t
	} else if t, ok := parseEpoch(firstLine(s[SectionApkLast])); ok {
		f.lastUpdated = t
	} else if t, ok := parseEpoch(firstLine(s[SectionPkgLast])); ok {
		f.lastUpdated = t
	}
	return f
}

// parseEpoch reads a positive count of seconds since 1970 (rpm's
// INSTALLTIME, stat -c %Y).
func parseEpoch(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// parsePacmanLogTime reads the time of a pacman.log line. pacman 5.2 and
// later write "[2026-12-06T02:45:23+0000] [ALPM] upgraded …" (with the
// offset); older ones "[2019-03-01 14:02] [ALPM] upgraded …" in local time.
func parsePacmanLogTime(line string, loc *time.Location) (time.Time, bool) {
	stamp, _, ok := strings.Cut(strings.TrimPrefix(line, "["), "]")
	if !ok || !strings.HasPrefix(line, "[") {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02T15:04:05-0700", stamp); err == nil {
		return t.UTC(), true
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", stamp, loc); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// parseUptime reads /proc/uptime's first field ("29038.43 47753.49").
func parseUptime(line string) time.Duration {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return 0
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || secs < 0 || secs > 1e10 {
		return 0
	}
	return time.Duration(secs * float64(time.Second)).Truncate(time.Second)
}

// parseTZ reads `date +%z` ("+0100", "-0530"); UTC when unreadable.
func parseTZ(s string) *time.Location {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return time.UTC
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[3:5])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return time.UTC
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone(s, off)
}

// parseDpkgLogTime reads the time of a dpkg.log line ("2026-12-05
// 17:04:09 upgrade openssh-client:amd64 1:9.2p1-2+deb12u6 …"), written in
// the host's local time.
func parseDpkgLogTime(line string, loc *time.Location) (time.Time, bool) {
	const layout = "2006-01-02 15:04:05"
	if len(line) < len(layout) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(layout, line[:len(layout)], loc)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseAddresses reads `ip -o addr show` (one address a line: "4: eth0
// inet 192.0.2.2/24 brd … scope global eth0\ …") or, from the fallback,
// `hostname -I` (addresses without prefix lengths). Loopback, link-local
// and unparsable addresses are left out; duplicates once.
func parseAddresses(out string) []string {
	var addrs []string
	seen := map[string]bool{}
	add := func(s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		a := p.Addr()
		if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() || seen[p.String()] {
			return
		}
		seen[p.String()] = true
		if strings.Contains(s, "/") {
			addrs = append(addrs, p.String())
		} else {
			addrs = append(addrs, a.String())
		}
	}
	for _, l := range nonEmptyLines(out) {
		fields := strings.Fields(l)
		if len(fields) >= 4 && strings.HasSuffix(fields[0], ":") && (fields[2] == "inet" || fields[2] == "inet6") {
			add(fields[3])
			continue
		}
		for _, f := range fields {
			add(f)
		}
	}
	return addrs
}
