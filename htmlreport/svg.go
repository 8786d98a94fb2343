package htmlreport

import (
	"fmt"
	"strconv"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/report"
)

// The charts are inline SVG whose geometry is computed here, in whole
// tenths of a pixel, so the page is the same bytes for the same data and
// needs no script to draw.

// num formats a coordinate with at most one decimal.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s
}

// Timeline geometry: one row per host, all on the run's time axis.
const (
	tlWidth  = 360.0
	tlHeight = 28.0
)

// span is one phase of a host, as drawn: where, which colour, and the
// tooltip.
type span struct {
	X, W  string
	Class string
	Title string
}

// mark is a batch or wave marker on a timeline.
type mark struct {
	X     string
	TX    string // label position
	Label string
	Title string
}

// timeline is one host's Gantt row.
type timeline struct {
	Width, Height string
	Spans         []span
	Marks         []mark
	Empty         bool
}

// phaseClass maps a phase to its colour class; the names are the runner's
// phases (docs/events.md), and a phase this page does not know is drawn
// grey with its name in the tooltip.
func phaseClass(p string) string {
	switch p {
	case "connecting", "facts":
		return "ph-connect"
	case "scanning":
		return "ph-scan"
	case "installing", "exec":
		return "ph-install"
	case "awaiting-batch", "awaiting-wave", "pending":
		return "ph-wait"
	case "rebooting", "waiting-down":
		return "ph-down"
	case "waiting-up":
		return "ph-up"
	case "verifying":
		return "ph-verify"
	case "health", "health-check", "hooks":
		return "ph-health"
	}
	return "ph-other"
}

// legend lists the phase colours in the order a host meets them.
var legend = []struct{ Class, Label string }{
	{"ph-connect", "connect"},
	{"ph-scan", "scan"},
	{"ph-install", "install"},
	{"ph-wait", "wait for batch"},
	{"ph-down", "reboot (going down)"},
	{"ph-up", "reboot (coming up)"},
	{"ph-verify", "verify"},
	{"ph-health", "health"},
}

// timeScale maps times in [start, end] to [0, width].
type timeScale struct {
	start time.Time
	span  time.Duration
	width float64
}

func newScale(start, end time.Time, width float64) timeScale {
	d := end.Sub(start)
	if d <= 0 {
		d = time.Second
	}
	return timeScale{start: start, span: d, width: width}
}

func (s timeScale) x(t time.Time) float64 {
	f := float64(t.Sub(s.start)) / float64(s.span) * s.width
	return min(max(f, 0), s.width)
}

// buildTimeline draws a host's phases, and marks where its rollout wave
// started it and where its reboot batch started.
func buildTimeline(sc timeScale, segs []history.Segment) timeline {
	tl := timeline{Width: num(tlWidth), Height: num(tlHeight)}
	var batchAt, waveAt time.Time
	batch, wave := 0, 0
	for _, s := range segs {
		x0, x1 := sc.x(s.Start), sc.x(s.End)
		w := max(x1-x0, 1) // a short phase stays visible
		if x0+w > sc.width {
			x0 = sc.width - w
		}
		title := fmt.Sprintf("%s: %s (%s → %s)", s.Phase, duration(s.End.Sub(s.Start)),
			s.Start.UTC().Format("15:04:05"), s.End.UTC().Format("15:04:05"))
		if s.Batch > 0 {
			title += fmt.Sprintf(", batch %d", s.Batch)
		}
		if s.Wave > 0 {
			title += fmt.Sprintf(", wave %d", s.Wave)
		}
		tl.Spans = append(tl.Spans, span{X: num(x0), W: num(w), Class: phaseClass(string(s.Phase)), Title: title})
		if s.Wave > 0 && wave == 0 {
			wave, waveAt = s.Wave, s.Start
		}
		if s.Batch > 0 && batch == 0 {
			batch, batchAt = s.Batch, s.Start
		}
	}
	// A batch starts with the reboot; a host that never got there is
	// marked where it was first put in one.
	for _, s := range segs {
		if s.Batch > 0 && s.Phase == report.PhaseRebooting {
			batch, batchAt = s.Batch, s.Start
			break
		}
	}
	tl.Empty = len(tl.Spans) == 0
	addMark := func(at time.Time, label, title string) {
		x := sc.x(at)
		tx := x + 3
		if tx > sc.width-30 {
			tx = x - 30
		}
		tl.Marks = append(tl.Marks, mark{X: num(x), TX: num(max(tx, 0)), Label: label, Title: title})
	}
	switch {
	case batch > 0 && wave > 0 && sc.x(batchAt)-sc.x(waveAt) < 32:
		addMark(waveAt, fmt.Sprintf("W%d·B%d", wave, batch),
			fmt.Sprintf("wave %d from %s; reboot batch %d from %s", wave, waveAt.UTC().Format("15:04:05"), batch, batchAt.UTC().Format("15:04:05")))
	default:
		if wave > 0 {
			addMark(waveAt, "W"+strconv.Itoa(wave), fmt.Sprintf("wave %d from %s", wave, waveAt.UTC().Format("15:04:05")))
		}
		if batch > 0 {
			addMark(batchAt, "B"+strconv.Itoa(batch), fmt.Sprintf("reboot batch %d from %s", batch, batchAt.UTC().Format("15:04:05")))
		}
	}
	return tl
}

// tick is one label of the timeline axis.
type tick struct {
	X, Label string
	Anchor   string // text-anchor of the label
}

// axisTicks labels the run's time axis at a round step, about 5 ticks.
func axisTicks(sc timeScale) []tick {
	steps := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
		15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
		4 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if sc.span/s <= 5 {
			step = s
			break
		}
	}
	var out []tick
	for d := time.Duration(0); d <= sc.span; d += step {
		x := float64(d) / float64(sc.span) * sc.width
		anchor := "middle"
		switch {
		case d == 0:
			anchor = "start"
		case x > sc.width-16:
			anchor = "end"
		}
		out = append(out, tick{X: num(x), Label: duration(d), Anchor: anchor})
	}
	return out
}

// duration is d short and readable: "850ms", "12s", "3m05s", "1h02m".
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// bar is one bar of a horizontal bar chart.
type bar struct {
	Label, Value string
	Metric       string // data-metric name, for tests and scripts
	Class        string
	Y, W, TY, VX string
}

// barChart is a small horizontal bar chart.
type barChart struct {
	Width, Height string
	Bars          []bar
}

// Bar chart geometry.
const (
	barLabelW = 110.0
	barMaxW   = 250.0
	barRowH   = 30.0
	barH      = 20.0
)

// buildBars draws one bar per value, scaled to the largest.
func buildBars(labels []string, metrics []string, classes []string, values []int) barChart {
	top := 1
	for _, v := range values {
		top = max(top, v)
	}
	c := barChart{Width: num(barLabelW + barMaxW + 50), Height: num(float64(len(values))*barRowH + 4)}
	for i, v := range values {
		w := float64(v) / float64(top) * barMaxW
		if v > 0 {
			w = max(w, 2)
		}
		y := float64(i)*barRowH + 4
		c.Bars = append(c.Bars, bar{
			Label: labels[i], Value: strconv.Itoa(v), Metric: metrics[i], Class: classes[i],
			Y: num(y), W: num(w), TY: num(y + barH/2 + 5), VX: num(barLabelW + w + 6),
		})
	}
	return c
}

// trendPoint is one run of the trend chart.
type trendPoint struct {
	X, Y        string // compliance point
	BarY, BarH  string // failed + unreachable hosts
	BarX, BarW  string
	Label       string // run start date
	Title       string
	ShowLabel   bool
	LabelAnchor string
}

// trendChart is compliance (line, left axis, %) and failing hosts (bars,
// right axis) over the last runs.
type trendChart struct {
	Width, Height, PlotTop, PlotBottom, PlotLeft, PlotRight string
	Line                                                    string // polyline points
	Points                                                  []trendPoint
	YTicks                                                  []tick // left axis, percent; X holds the y coordinate
	FailMax, FailMaxY                                       string
}

// trendRun is one run's figures for the trend.
type trendRun struct {
	ID        string
	Command   string
	Started   time.Time
	Compliant int
	Hosts     int
	Failing   int // failed + unreachable
}

// Trend chart geometry.
const (
	trW      = 1200.0
	trH      = 230.0
	trLeft   = 44.0
	trRight  = 40.0
	trTop    = 12.0
	trBottom = 34.0
)

func buildTrend(runs []trendRun) *trendChart {
	if len(runs) == 0 {
		return nil
	}
	plotW := trW - trLeft - trRight
	plotH := trH - trTop - trBottom
	c := &trendChart{
		Width: num(trW), Height: num(trH),
		PlotTop: num(trTop), PlotBottom: num(trH - trBottom),
		PlotLeft: num(trLeft), PlotRight: num(trW - trRight),
	}
	for _, p := range []int{0, 25, 50, 75, 100} {
		c.YTicks = append(c.YTicks, tick{X: num(trTop + plotH*(1-float64(p)/100)), Label: strconv.Itoa(p) + "%"})
	}
	failMax := 1
	for _, r := range runs {
		failMax = max(failMax, r.Failing)
	}
	c.FailMax = strconv.Itoa(failMax)
	c.FailMaxY = num(trH - trBottom - plotH*0.5)
	slot := plotW / float64(len(runs))
	every := (len(runs) + 7) / 8 // at most 8 date labels
	line := ""
	for i, r := range runs {
		cx := trLeft + slot*(float64(i)+0.5)
		pct := 0.0
		if r.Hosts > 0 {
			pct = float64(r.Compliant) / float64(r.Hosts)
		}
		cy := trTop + plotH*(1-pct)
		bh := float64(r.Failing) / float64(failMax) * plotH * 0.5
		bw := min(slot*0.5, 24)
		if line != "" {
			line += " "
		}
		line += num(cx) + "," + num(cy)
		c.Points = append(c.Points, trendPoint{
			X: num(cx), Y: num(cy),
			BarX: num(cx - bw/2), BarW: num(bw), BarY: num(trH - trBottom - bh), BarH: num(bh),
			Label:     r.Started.UTC().Format("01-02 15:04"),
			ShowLabel: (len(runs)-1-i)%every == 0,
			Title: fmt.Sprintf("%s %s (%s): %d of %d hosts compliant (%s), %d failed or unreachable",
				r.Command, r.ID, r.Started.UTC().Format("2006-01-02 15:04"), r.Compliant, r.Hosts, percent(r.Compliant, r.Hosts), r.Failing),
		})
	}
	c.Line = line
	return c
}

// percent is n/of as a whole percentage, rounded down so that a fleet with
// one non-compliant host never shows 100%.
func percent(n, of int) string {
	if of == 0 {
		return "–"
	}
	return strconv.Itoa(n*100/of) + "%"
}
