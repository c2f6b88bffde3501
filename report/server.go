package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// historyPageSize is how many results a server page lists at a time.
const historyPageSize = 50

// calendarNights is how many nights the status calendar covers.
const calendarNights = 90

type resultView struct {
	store.ResultRow
	Verdict  verdict
	CodeName string
	Was      *verdict // the first verdict, when re-evaluation changed it
	Why      string   // the latest change's reason
}

type serverPage struct {
	base
	Server    store.Server
	Customer  store.Customer
	Results   []resultView
	Total     int
	Page      int
	Pages     int
	Calendar  calendar
	Trends    []trend
	Notes     []store.Note
	Claim     string
	Streak    time.Time // the latest ok result (zero: none): notes before it belong to an earlier streak
	URL       string
	APIURL    string
	Days      []weekdayBox
	CanManage bool
}

// weekdayBox is one checkbox of a server's expected weekdays.
type weekdayBox struct {
	N       int
	Name    string
	Checked bool
}

func (h *Handler) serverByPath(r *http.Request) (store.Server, error) {
	return h.db.ServerByName(r.Context(), r.PathValue("customer"), r.PathValue("server"))
}

func (h *Handler) serverPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	srv, err := h.serverByPath(r)
	if err != nil {
		return err
	}
	cust, err := h.db.CustomerBySlug(ctx, srv.Customer)
	if err != nil {
		return err
	}
	total, err := h.db.CountResults(ctx, srv.ID)
	if err != nil {
		return err
	}
	pages := max(1, (total+historyPageSize-1)/historyPageSize)
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = min(max(pg, 1), pages)
	rows, err := h.db.History(ctx, srv.ID, historyPageSize, (pg-1)*historyPageSize)
	if err != nil {
		return err
	}
	codes, err := h.db.CodeTable(ctx)
	if err != nil {
		return err
	}
	p := &serverPage{base: h.base(r, s, srv.Customer+"/"+srv.Name), Server: srv, Customer: cust, Total: total, Page: pg, Pages: pages,
		URL: serverURL(srv.Customer, srv.Name), APIURL: "/api/v1" + serverURL(srv.Customer, srv.Name) + "/results"}
	for _, row := range rows {
		p.Results = append(p.Results, resultView{ResultRow: row, Verdict: verdictOf(row.Status, row.ExceptedErrors), CodeName: codes.Lookup(row.Code).Name})
	}
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	changes, err := h.db.VerdictChanges(ctx, ids)
	if err != nil {
		return err
	}
	for i := range p.Results {
		if vc := changes[p.Results[i].ID]; len(vc) > 0 {
			was := verdictOf(vc[0].OldStatus, 0)
			p.Results[i].Was, p.Results[i].Why = &was, vc[len(vc)-1].Reason
		}
	}
	p.CanManage = s.can(store.RoleTech)
	for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
		p.Days = append(p.Days, weekdayBox{N: d, Name: time.Weekday(d).String()[:3], Checked: srv.Expected(time.Weekday(d))})
	}
	last := store.LastCompleteNight(h.cfg.Now(), h.loc)
	from := last.AddDays(-(calendarNights - 1))
	nights, err := h.db.NightResults(ctx, srv.ID, from.Noon(h.loc))
	if err != nil {
		return err
	}
	p.Calendar = buildCalendar(srv, from, last, nights, h.loc)
	p.Trends = buildTrends(nights)
	if p.Notes, err = h.db.Notes(ctx, srv.ID, 20); err != nil {
		return err
	}
	streak, err := h.db.StreakStart(ctx, srv.ID)
	if err != nil {
		return err
	}
	if streak != nil {
		p.Streak = *streak
	}
	claims, err := h.db.Claims(ctx)
	if err != nil {
		return err
	}
	if c, ok := claims[srv.ID]; ok {
		p.Claim = c.Username
	}
	return h.render(w, r, http.StatusOK, "server", p)
}

func (h *Handler) addNote(w http.ResponseWriter, r *http.Request, s *session) error {
	srv, err := h.serverByPath(r)
	if err != nil {
		return err
	}
	if _, err := h.db.AddNote(r.Context(), s.User.ID, srv.ID, r.PostFormValue("kind"), r.PostFormValue("body")); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return errorf(http.StatusBadRequest, "%v", err)
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
	return nil
}

// Limits of the raw log shown on a result page; the download has it all.
const (
	maxLogLines    = 5000
	maxLogLineShow = 2000
)

type logLine struct {
	N     int
	Text  string
	Class string // err, excepted or vanished for a file error; final for rsync's closing line
}

type resultPage struct {
	base
	R            store.ResultRow
	Verdict      verdict
	Code         parser.CodeInfo
	Errors       []store.FileErrorRow
	Failing      int
	Log          []logLine
	LogStored    bool
	LogCut       bool // the page shows only the first maxLogLines lines
	LogTruncated bool // the stored log itself lost its middle
	LogBytes     int64
	ServerURL    string
	CanExcept    bool
	Scope        string
	Changes      []store.VerdictChange
	Resolved     []store.FileErrorRow // the previous upload's errors this one no longer has
	Warnings     []warningView
}

func (h *Handler) resultByPath(r *http.Request) (store.ResultRow, []store.FileErrorRow, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.ResultRow{}, nil, errorf(http.StatusNotFound, "There is no result %q.", r.PathValue("id"))
	}
	return h.db.Result(r.Context(), id)
}

func (h *Handler) resultPage(w http.ResponseWriter, r *http.Request, s *session) error {
	res, fes, err := h.resultByPath(r)
	if err != nil {
		return err
	}
	code, err := h.db.CodeInfo(r.Context(), res.Code)
	if err != nil {
		return err
	}
	p := &resultPage{base: h.base(r, s, fmt.Sprintf("%s/%s, night %s", res.Customer, res.Server, res.Night)), R: res,
		Verdict: verdictOf(res.Status, res.ExceptedErrors), Code: code, Errors: fes, ServerURL: serverURL(res.Customer, res.Server),
		CanExcept: s.can(store.RoleTech), Scope: res.Customer + "/" + res.Server}
	vc, err := h.db.VerdictChanges(r.Context(), []int64{res.ID})
	if err != nil {
		return err
	}
	p.Changes = vc[res.ID]
	if len(res.Warnings) > 0 {
		texts, err := h.db.WarningTable(r.Context())
		if err != nil {
			return err
		}
		p.Warnings = warningViews(res.Warnings, texts)
	}
	if p.Resolved, err = h.db.ResolvedErrors(r.Context(), res.ID); err != nil {
		return err
	}
	errLines := map[int]string{}
	for _, fe := range fes {
		switch {
		case fe.Kind == string(parser.KindVanished):
			errLines[fe.Line] = "vanished"
		case fe.Excepted:
			errLines[fe.Line] = "excepted"
		default:
			errLines[fe.Line] = "err"
			p.Failing++
		}
	}
	raw, err := h.db.RawLogOf(r.Context(), res.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		p.LogStored, p.LogTruncated, p.LogBytes = true, raw.Truncated, raw.OriginalBytes
		p.Log, p.LogCut, err = readLog(raw, errLines)
		if err != nil {
			h.log.Warn("read raw log", logkey.ResultID, res.ID, logkey.Err, err)
		}
	}
	return h.render(w, r, http.StatusOK, "result", p)
}

// readLog decompresses a stored log into numbered lines, marking the
// lines of file errors (by their class in errLines) and rsync's closing
// error or warning line.
func readLog(raw store.RawLog, errLines map[int]string) ([]logLine, bool, error) {
	zr, err := raw.Open()
	if err != nil {
		return nil, false, err
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, 64<<10)
	var out []logLine
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			if err == io.EOF {
				return out, false, nil
			}
			return out, false, err
		}
		if n > maxLogLines {
			return out, true, nil
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) > maxLogLineShow {
			line = line[:maxLogLineShow] + " …"
		}
		l := logLine{N: n, Text: line}
		switch {
		case errLines[n] != "":
			l.Class = errLines[n]
		case strings.HasPrefix(line, "rsync error:") || strings.HasPrefix(line, "rsync warning:"):
			l.Class = "final"
		}
		out = append(out, l)
	}
}

// rawLog sends the stored log as a plain-text download.
func (h *Handler) rawLog(w http.ResponseWriter, r *http.Request, _ *session) error {
	res, _, err := h.resultByPath(r)
	if err != nil {
		return err
	}
	raw, err := h.db.RawLogOf(r.Context(), res.ID)
	if errors.Is(err, store.ErrNotFound) && res.RawLogPrunedAt != nil {
		return errorf(http.StatusGone, "The raw log of this result was removed on %s (%s); its verdict is kept.",
			res.RawLogPrunedAt.In(h.loc).Format("2006-01-02 15:04"), res.RawLogPrunedReason)
	}
	if err != nil {
		return err
	}
	zr, err := raw.Open()
	if err != nil {
		return fmt.Errorf("raw log of result %d: %w", res.ID, err)
	}
	defer zr.Close()
	name := fmt.Sprintf("%s-%s-%s-%d.log", res.Customer, res.Server, res.Night, res.ID)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r == '/' || r > 0x7e {
			return '_'
		}
		return r
	}, name)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if _, err := io.Copy(w, zr); err != nil {
		h.log.Warn("send raw log", logkey.ResultID, res.ID, logkey.Err, err)
	}
	return nil
}
