package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// Geometry of the status calendar, in SVG units.
const (
	calSize = 18
	calGap  = 3
	calLeft = 34
	calTop  = 18
)

// calendar is the 90-night status calendar: one column per week, one row
// per weekday, each cell with a letter and a title as well as a colour.
type calendar struct {
	Width, Height int
	Cells         []calCell
	Months        []calLabel
	Days          []calLabel
	Counts        map[string]int
}

type calCell struct {
	X, Y   int
	Warn   bool // the night has warnings: a mark in the cell's corner
	Class  string
	Letter string
	Title  string
	URL    string
}

type calLabel struct {
	X, Y int
	Text string
}

// buildCalendar lays out the nights from..to of a server. A night with
// no result is missing when a report was expected (by the server's
// weekdays, and not before it was added), else left grey.
func buildCalendar(srv store.Server, from, to store.Night, nights []store.NightResult, loc *time.Location) calendar {
	byNight := map[store.Night]store.NightResult{}
	for _, n := range nights {
		byNight[n.Night] = n
	}
	created := store.FirstNight(srv.CreatedAt, loc)
	list := store.NightsBetween(from, to)
	c := calendar{Counts: map[string]int{}}
	if len(list) == 0 {
		return c
	}
	offset := int(list[0].Weekday())
	lastMonth := ""
	for i, night := range list {
		col, row := (i+offset)/7, (i+offset)%7
		cell := calCell{X: calLeft + col*(calSize+calGap), Y: calTop + row*(calSize+calGap)}
		wd := night.Weekday().String()[:3]
		var v verdict
		if n, ok := byNight[night]; ok {
			v = verdictOf(n.Status, n.ExceptedErrors)
			cell.URL = fmt.Sprintf("/results/%d", n.ResultID)
			cell.Title = fmt.Sprintf("%s %s: %s, code %d", wd, night, v.Label, n.Code)
			if n.FileErrors > 0 {
				cell.Title += fmt.Sprintf(", %d file errors", n.FileErrors)
			}
			if n.ExceptedErrors > 0 {
				cell.Title += fmt.Sprintf(", %d excepted", n.ExceptedErrors)
			}
			for _, w := range n.Warnings {
				cell.Title += "; ⚠ " + w.Message
				cell.Warn = true
			}
		} else if night >= created && srv.Expected(night.Weekday()) {
			v = verdictOf(store.StatusMissing, 0)
			cell.Title = fmt.Sprintf("%s %s: MISSING, no report arrived", wd, night)
		} else {
			v = verdictOf("", 0)
			cell.Title = fmt.Sprintf("%s %s: no report expected", wd, night)
		}
		cell.Class, cell.Letter = v.Class, v.Icon
		c.Counts[v.Class]++
		c.Cells = append(c.Cells, cell)
		if m := night.String()[:7]; m != lastMonth {
			lastMonth = m
			// A month starting late in a week is labelled on the next
			// column; labels never crowd each other.
			x := cell.X
			if row > 3 {
				x += calSize + calGap
			}
			if n := len(c.Months); n == 0 || x-c.Months[n-1].X >= 2*(calSize+calGap) {
				c.Months = append(c.Months, calLabel{X: x, Y: calTop - 5, Text: night.Noon(time.UTC).Format("Jan")})
			}
		}
	}
	cols := (len(list) + offset + 6) / 7
	for d := 0; d < 7; d += 2 {
		c.Days = append(c.Days, calLabel{X: 0, Y: calTop + d*(calSize+calGap) + 13, Text: time.Weekday(d).String()[:3]})
	}
	c.Width = calLeft + cols*(calSize+calGap)
	c.Height = calTop + 7*(calSize+calGap)
	return c
}

// trend is one line chart: a value per night with a result.
type trend struct {
	Title          string
	Width, Height  int
	Points         string
	Dots           []trendDot
	Max            string
	First, Last    string
	Empty          bool
	PlotX0, PlotX1 int
	PlotY0, PlotY1 int
}

type trendDot struct {
	X, Y  int
	Title string
	// Warn marks a night with a warning about what the chart shows (sizeKinds,
	// sentKinds); URL links the mark to the night's result.
	Warn bool
	URL  string
}

// The warnings each trend picture marks: those about the figure it draws.
var (
	sizeKinds = []parser.WarningKind{parser.WarningSizeDrop, parser.WarningDeletionSpike, parser.WarningMassDeletion}
	sentKinds = []parser.WarningKind{parser.WarningChangeSpike, parser.WarningFrozenSource}
)

// buildTrends draws total size and bytes sent per night.
func buildTrends(nights []store.NightResult) []trend {
	var pts []store.NightResult
	for _, n := range nights {
		if n.Status != store.StatusMissing {
			pts = append(pts, n)
		}
	}
	return []trend{
		lineChart("Total size", pts, func(n store.NightResult) int64 { return n.TotalSize }, sizeKinds),
		lineChart("Bytes sent", pts, func(n store.NightResult) int64 { return n.SentBytes }, sentKinds),
	}
}

func lineChart(title string, pts []store.NightResult, val func(store.NightResult) int64, kinds []parser.WarningKind) trend {
	t := trend{Title: title, Width: 600, Height: 160, PlotX0: 60, PlotX1: 590, PlotY0: 10, PlotY1: 130}
	var maxV int64
	for _, p := range pts {
		maxV = max(maxV, val(p))
	}
	if len(pts) == 0 || maxV == 0 {
		t.Empty = true
		return t
	}
	t.Max, t.First, t.Last = HumanBytes(maxV), pts[0].Night.String(), pts[len(pts)-1].Night.String()
	var b strings.Builder
	span := max(1, len(pts)-1)
	for i, p := range pts {
		x := t.PlotX0 + i*(t.PlotX1-t.PlotX0)/span
		y := t.PlotY1 - int(float64(val(p))/float64(maxV)*float64(t.PlotY1-t.PlotY0))
		fmt.Fprintf(&b, "%d,%d ", x, y)
		d := trendDot{X: x, Y: y, Title: fmt.Sprintf("%s: %s", p.Night, HumanBytes(val(p)))}
		for _, w := range p.Warnings {
			if slices.Contains(kinds, w.Kind) {
				d.Warn, d.URL = true, fmt.Sprintf("/results/%d#warn-%s", p.ResultID, w.Kind)
				d.Title += "; ⚠ " + w.Message
			}
		}
		t.Dots = append(t.Dots, d)
	}
	t.Points = strings.TrimSpace(b.String())
	return t
}
