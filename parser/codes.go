package parser

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// CodeInfo explains one exit code to staff: rsync's short name for it,
// what it means for the customer's backup and what to do about it.
type CodeInfo struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Meaning string `json:"meaning"`
	Action  string `json:"action"`
}

// codesJSON is the built-in code table. It is data, not code, so that the
// texts can be copied into the database and edited there.
//
//go:embed codes.json
var codesJSON []byte

// codeTable is codesJSON decoded on first use, sorted by code; not at
// start, which every command would pay for.
var codeTable = sync.OnceValue(func() []CodeInfo { return mustLoadCodes(codesJSON) })

func mustLoadCodes(b []byte) []CodeInfo {
	var codes []CodeInfo
	if err := json.Unmarshal(b, &codes); err != nil {
		panic(fmt.Sprintf("parser: codes.json: %v", err))
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i].Code < codes[j].Code })
	for i := 1; i < len(codes); i++ {
		if codes[i].Code == codes[i-1].Code {
			panic(fmt.Sprintf("parser: codes.json: code %d twice", codes[i].Code))
		}
	}
	return codes
}

// Codes returns the built-in code table sorted by code, including
// CodeMissing. The slice is a copy; callers may change it.
func Codes() []CodeInfo {
	return append([]CodeInfo(nil), codeTable()...)
}

// CodeTable explains exit codes: staff's own texts (edited in the
// database) over the built-in table. Its Lookup never misses. The zero
// CodeTable is the built-in table alone.
type CodeTable struct {
	edited map[int]CodeInfo
}

// NewCodeTable returns the built-in table with edited's entries taking
// its place. edited is not copied; do not change it afterwards.
func NewCodeTable(edited map[int]CodeInfo) CodeTable { return CodeTable{edited: edited} }

// Lookup returns the explanation of code: staff's, else the built-in
// one, else an "unknown code" entry whose texts still name the number.
func (t CodeTable) Lookup(code int) CodeInfo {
	if c, ok := t.edited[code]; ok {
		return c
	}
	return LookupCode(code)
}

// All returns every code the table explains (the built-in ones and staff's
// own), sorted by code.
func (t CodeTable) All() []CodeInfo {
	out := Codes()
	for i := range out {
		if c, ok := t.edited[out[i].Code]; ok {
			out[i] = c
		}
	}
	for code, c := range t.edited {
		if _, builtin := lookupBuiltin(code); !builtin {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// lookupBuiltin returns the built-in entry of code, if there is one.
func lookupBuiltin(code int) (CodeInfo, bool) {
	t := codeTable()
	i := sort.Search(len(t), func(i int) bool { return t[i].Code >= code })
	if i < len(t) && t[i].Code == code {
		return t[i], true
	}
	return CodeInfo{}, false
}

// LookupCode returns the built-in table's entry for code (see
// CodeTable.Lookup for staff's edits too). A code that is not in the table
// gets an "unknown code" entry whose texts still name the number.
func LookupCode(code int) CodeInfo {
	if c, ok := lookupBuiltin(code); ok {
		return c
	}
	return CodeInfo{
		Code:    code,
		Name:    "unknown code",
		Meaning: fmt.Sprintf("The run ended with code %d, which is not in our table; it may come from ssh, the shell or a patched rsync.", code),
		Action:  fmt.Sprintf("Read the last lines of the report for the cause, and add code %d to the table once it is understood.", code),
	}
}
