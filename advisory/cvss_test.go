package advisory

import "testing"

// Published base scores: the CVSS v3.1 specification's worked examples
// and well-known CVEs as scored by NVD.
func TestCVSS3BaseScoreMatchesPublishedScores(t *testing.T) {
	for _, tc := range []struct {
		name, vector string
		want         float64
	}{
		{"CVE-2013-1937 phpMyAdmin XSS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVE-2013-0375 MySQL", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVE-2014-3566 POODLE", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
		{"CVE-2012-1516 VMware", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
		{"CVE-2012-0384 Cisco IOS", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
		{"CVE-2015-1098 iWork", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8},
		{"CVE-2014-0160 Heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
		{"CVE-2014-6271 Shellshock", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVE-2008-1447 DNS", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},
		{"CVE-2014-2005 Sophos", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},
		{"CVE-2010-0467 Joomla", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8},
		{"CVE-2013-6014 Juniper", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3},
		{"CVE-2021-44228 Log4Shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"CVE-2016-5195 Dirty COW", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"no impact", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
	} {
		got, err := cvss3BaseScore(tc.vector)
		if err != nil || got != tc.want {
			t.Errorf("%s: %s = %v, %v; want %v", tc.name, tc.vector, got, err, tc.want)
		}
	}
	for _, bad := range []string{"AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H"} {
		if _, err := cvss3BaseScore(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
