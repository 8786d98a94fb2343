package inventory

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Order returns hosts in the order --order asks for: "inventory" (or ""),
// "reverse_inventory", "sorted", "reverse_sorted" (by name), or "shuffle"
// (seeded, so a run can be repeated). The input slice is not modified.
func Order(hosts []Host, how string, seed int64) ([]Host, error) {
	out := append([]Host(nil), hosts...)
	switch how {
	case "", "inventory":
	case "reverse_inventory":
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case "sorted":
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	case "reverse_sorted":
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	case "shuffle":
		r := rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>1^0x9e3779b97f4a7c15))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	default:
		return nil, fmt.Errorf("bad order %q (hint: use inventory, sorted, shuffle or risk)", how)
	}
	return out, nil
}

// Shard keeps shard K of N (1-based: "1/4" … "4/4"): the hosts whose index
// in the given slice, modulo N, is K-1. Every machine that shards the same
// list the same way gets a disjoint part, and together they cover it all.
// Shard before shuffling, or shuffle with a shared seed.
func Shard(hosts []Host, spec string) ([]Host, error) {
	k, n, err := parseShard(spec)
	if err != nil {
		return nil, err
	}
	var out []Host
	for i, h := range hosts {
		if i%n == k-1 {
			out = append(out, h)
		}
	}
	return out, nil
}

func parseShard(spec string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return 0, 0, fmt.Errorf("bad shard %q (hint: write K/N, e.g. 2/8 for the second of eight shards)", spec)
	}
	k, errK := strconv.Atoi(strings.TrimSpace(ks))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case errK != nil || errN != nil:
		return 0, 0, fmt.Errorf("bad shard %q (hint: write K/N with numbers, e.g. 2/8)", spec)
	case n < 1:
		return 0, 0, fmt.Errorf("bad shard %q: N must be at least 1", spec)
	case k < 1 || k > n:
		return 0, 0, fmt.Errorf("bad shard %q: K must be from 1 to %d (shards count from 1)", spec, n)
	}
	return k, n, nil
}
