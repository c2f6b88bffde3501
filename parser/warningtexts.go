package parser

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

// WarningInfo explains one kind of warning to staff, as CodeInfo does an
// exit code: a short name, what it means for the backup and what to do.
type WarningInfo struct {
	Kind    WarningKind `json:"kind"`
	Name    string      `json:"name"`
	Meaning string      `json:"meaning"`
	Action  string      `json:"action"`
}

// warningsJSON is the built-in text of every kind; staff edit copies in
// the database.
//
//go:embed warnings.json
var warningsJSON []byte

var warningTexts = sync.OnceValue(func() map[WarningKind]WarningInfo {
	var all []WarningInfo
	if err := json.Unmarshal(warningsJSON, &all); err != nil {
		panic(fmt.Sprintf("parser: warnings.json: %v", err))
	}
	m := make(map[WarningKind]WarningInfo, len(all))
	for _, w := range all {
		m[w.Kind] = w
	}
	for _, k := range WarningKinds {
		if _, ok := m[k]; !ok {
			panic(fmt.Sprintf("parser: warnings.json: no text for %s", k))
		}
	}
	return m
})

// WarningTable explains warning kinds: staff's texts over the built-in
// ones. The zero WarningTable is the built-in texts alone.
type WarningTable struct {
	edited map[WarningKind]WarningInfo
}

// NewWarningTable returns the built-in texts with edited's in their place.
// edited is not copied.
func NewWarningTable(edited map[WarningKind]WarningInfo) WarningTable {
	return WarningTable{edited: edited}
}

// Lookup returns the text of kind; a kind this release does not know (a
// newer node wrote it) gets a text that names it.
func (t WarningTable) Lookup(kind WarningKind) WarningInfo {
	if w, ok := t.edited[kind]; ok {
		return w
	}
	if w, ok := warningTexts()[kind]; ok {
		return w
	}
	return WarningInfo{Kind: kind, Name: string(kind), Meaning: "A warning of a kind this release does not describe.",
		Action: "Read the warning's message and the night's report."}
}

// All returns the text of every kind, in WarningKinds order.
func (t WarningTable) All() []WarningInfo {
	out := make([]WarningInfo, len(WarningKinds))
	for i, k := range WarningKinds {
		out[i] = t.Lookup(k)
	}
	return out
}

// KnownWarning reports whether kind is one of WarningKinds.
func KnownWarning(kind WarningKind) bool {
	_, ok := warningTexts()[kind]
	return ok
}
