package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// humanBytes formats n in binary units: 1.5 MiB.
func humanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// parseSize reads "64MiB", "1GiB", "500MB", "4096" or "16k".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q (examples: 64MiB, 1GiB, 4096)", s)
	}
	return int64(v * float64(mult)), nil
}

// summaryDuration is how long something took, in every summary line:
// "29ms" under a second, one decimal under a minute ("4.9s"), then
// shortDuration's style ("3m05s", "1h02m", "2d03h"). One rule for all, so
// that "in 4.952s" and "seeded for 3.9s" do not sit side by side.
func summaryDuration(d time.Duration) string {
	switch {
	case d < time.Second-time.Millisecond/2:
		return d.Round(time.Millisecond).String()
	case d < time.Minute-50*time.Millisecond:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int64(d.Round(time.Second).Seconds())
	switch {
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}
