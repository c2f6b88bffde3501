package parser

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
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

// codeTable is codesJSON decoded once, sorted by code.
var codeTable = mustLoadCodes(codesJSON)

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
	return append([]CodeInfo(nil), codeTable...)
}

// LookupCode returns the table entry for code. A code that is not in the
// table gets an "unknown code" entry whose texts still name the number.
func LookupCode(code int) CodeInfo {
	i := sort.Search(len(codeTable), func(i int) bool { return codeTable[i].Code >= code })
	if i < len(codeTable) && codeTable[i].Code == code {
		return codeTable[i]
	}
	return CodeInfo{
		Code:    code,
		Name:    "unknown code",
		Meaning: fmt.Sprintf("The run ended with code %d, which is not in our table; it may come from ssh, the shell or a patched rsync.", code),
		Action:  fmt.Sprintf("Read the last lines of the report for the cause, and add code %d to the table once it is understood.", code),
	}
}
