package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// seedTimeRule is the --seed-time rule, for the help of download and seed.
const seedTimeRule = `--seed-time takes minutes as aria2c's does ("--seed-time 10" is ten
minutes, "0.5" thirty seconds) or a Go duration ("90s", "1h30m").
Seeding stops when --seed-time or --seed-ratio is reached, whichever
comes first.`

// addSeedGoalFlags adds --seed-ratio and --seed-time, which download and
// seed share; note starts their help (download: they imply --seed).
func addSeedGoalFlags(fl *pflag.FlagSet, ratio *float64, d *time.Duration, note string) {
	fl.Float64Var(ratio, "seed-ratio", 0, note+"stop seeding once uploaded this many times the data (e.g. 2)")
	fl.Var((*seedTime)(d), "seed-time", note+"stop seeding after this long: minutes as in aria2c (10), or a duration (90s, 1h)")
}

// checkSeedGoals refuses negative goals (zero is no goal).
func checkSeedGoals(ratio float64, d time.Duration) error {
	switch {
	case ratio < 0:
		return usageError{fmt.Errorf("--seed-ratio %g: want a positive ratio", ratio)}
	case d < 0:
		return usageError{fmt.Errorf("--seed-time %v: want a positive duration", d)}
	}
	return nil
}

// seedTime is --seed-time as a pflag.Value: see parseSeedTime.
type seedTime time.Duration

// String says "0" for no goal, which pflag's help knows as a zero default.
func (s *seedTime) String() string {
	if *s == 0 {
		return "0"
	}
	return time.Duration(*s).String()
}
func (s *seedTime) Type() string { return "minutes|duration" }

func (s *seedTime) Set(v string) error {
	d, err := parseSeedTime(v)
	if err != nil {
		return err
	}
	*s = seedTime(d)
	return nil
}

// parseSeedTime reads a plain number as minutes, aria2c's unit for
// --seed-time, so that its users' habit ("--seed-time 10") means what
// they think; anything else is a Go duration ("90s", "1h").
func parseSeedTime(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if m, err := strconv.ParseFloat(v, 64); err == nil {
		if m < 0 || m > float64(1<<62)/float64(time.Minute) {
			return 0, fmt.Errorf("%q: want a positive number of minutes", v)
		}
		return time.Duration(m * float64(time.Minute)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q: want minutes (10) or a duration (90s, 1h)", v)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: want a positive duration", v)
	}
	return d, nil
}
