package advisory

import (
	"fmt"
	"math"
	"strings"
)

// cvss3BaseScore computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") with the specification's
// formulas and its round-up to one decimal.
func cvss3BaseScore(vector string) (float64, error) {
	parts := strings.Split(strings.TrimSpace(vector), "/")
	if len(parts) == 0 || !strings.HasPrefix(parts[0], "CVSS:3.") {
		return 0, fmt.Errorf("not a CVSS v3 vector: %q", vector)
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad metric %q", vector, p)
		}
		m[k] = v
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, fmt.Errorf("CVSS vector %q: no scope (S:U or S:C)", vector)
	}
	weights := []struct {
		metric string
		values map[string]float64
	}{
		{"AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}},
		{"AC", map[string]float64{"L": 0.77, "H": 0.44}},
		{"PR", map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}},
		{"UI", map[string]float64{"N": 0.85, "R": 0.62}},
		{"C", map[string]float64{"H": 0.56, "L": 0.22, "N": 0}},
		{"I", map[string]float64{"H": 0.56, "L": 0.22, "N": 0}},
		{"A", map[string]float64{"H": 0.56, "L": 0.22, "N": 0}},
	}
	w := map[string]float64{}
	for _, x := range weights {
		v, ok := x.values[m[x.metric]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: missing or bad %s", vector, x.metric)
		}
		w[x.metric] = v
	}
	if changed { // privileges weigh less when the scope changes
		switch m["PR"] {
		case "L":
			w["PR"] = 0.68
		case "H":
			w["PR"] = 0.5
		}
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, nil
	}
	exploitability := 8.22 * w["AV"] * w["AC"] * w["PR"] * w["UI"]
	if changed {
		return roundUp1(math.Min(1.08*(impact+exploitability), 10)), nil
	}
	return roundUp1(math.Min(impact+exploitability, 10)), nil
}

// roundUp1 is CVSS v3.1's Roundup: the smallest one-decimal number not
// below x, computed in integers so 4.000000001 stays 4.0.
func roundUp1(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}
