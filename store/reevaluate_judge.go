package store

import (
	"bytes"
	"strings"

	"github.com/backupreport/backupreport/parser"
)

// exceptionID is the first exception with a pattern, as insertFileErrors
// links them.
func exceptionID(ex []Exception, pattern string) *int64 {
	for i := range ex {
		if ex[i].Pattern == pattern {
			return &ex[i].ID
		}
	}
	return nil
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// forcedFailed reports a failure that no exception can lift: an upload
// cut at the size limit (see server.ingest).
func (it *reevalItem) forcedFailed() bool {
	return strings.HasPrefix(it.reason, "upload larger than")
}

// judge is one worker's state: its decompressor, reused for every log.
type judge struct {
	logs *logReader
}

func newJudge() *judge { return &judge{logs: newLogReader()} }

// judge judges one result again and lets go of its compressed log.
func (j *judge) judge(it *reevalItem) {
	ex := it.ex
	patterns := Patterns(ex)
	it.newCode, it.newDone = it.code, it.complete
	if it.truncated {
		it.judgeStored(ex, patterns)
		it.data = nil
		return
	}
	text, err := j.logs.decode(it.compression, it.data)
	it.data = nil
	if err != nil {
		it.err = err
		return
	}
	it.logBytes = int64(len(text))
	res, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		it.err = err
		return
	}
	res.Apply(patterns)
	if it.interrupted && res.Role == "" && res.RsyncVersion == "" {
		res.Code = parser.CodeMissing
		res.Status = parser.Verdict(res.Code, res.FileErrors)
	}
	it.newCode, it.newDone, it.newStatus = res.Code, res.Complete, string(res.Status)
	if it.forcedFailed() {
		it.newStatus = string(parser.StatusFailed)
	}
	f, e, v := CountFileErrors(res.FileErrors)
	it.newCounts = [3]int{f, e, v}
	same := len(res.FileErrors) == len(it.stored)
	for i := 0; same && i < len(res.FileErrors); i++ {
		fe, s := &res.FileErrors[i], &it.stored[i]
		if fe.Line != s.line || string(fe.Kind) != s.kind || fe.Path != s.path {
			same = false
		}
	}
	if !same {
		it.rowsDiff, it.newErrs = true, res.FileErrors
		return
	}
	it.newEx = make([]*int64, len(it.stored))
	for i := range res.FileErrors {
		fe := &res.FileErrors[i]
		if fe.Excepted {
			it.newEx[i] = exceptionID(ex, fe.Exception)
		}
		if fe.Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
	it.newErrs = res.FileErrors
}

// judgeStored judges a result from its stored file errors, for a log whose
// middle was not stored.
func (it *reevalItem) judgeStored(ex []Exception, patterns []string) {
	errs := make([]parser.FileError, len(it.stored))
	old := make([]parser.FileError, len(it.stored))
	it.newEx = make([]*int64, len(it.stored))
	for i, s := range it.stored {
		errs[i] = parser.FileError{Line: s.line, Kind: parser.Kind(s.kind), Path: s.path}
		old[i] = errs[i]
		old[i].Excepted = s.excepted
	}
	r := parser.Result{Code: it.code, FileErrors: errs}
	r.Apply(patterns)
	it.newStatus = string(r.Status)
	// A failure the stored rows do not explain (dropped errors, the size
	// limit) stays.
	if it.status == string(parser.StatusFailed) && parser.Verdict(it.code, old) == parser.StatusOK || it.forcedFailed() {
		it.newStatus = string(parser.StatusFailed)
	}
	f, e, v := CountFileErrors(r.FileErrors)
	it.newCounts = [3]int{f, e, v}
	for i := range r.FileErrors {
		if r.FileErrors[i].Excepted {
			it.newEx[i] = exceptionID(ex, r.FileErrors[i].Exception)
		}
		if r.FileErrors[i].Excepted != it.stored[i].excepted || !sameID(it.newEx[i], it.stored[i].exID) {
			it.exDiff = true
		}
	}
}
