package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Memo remembers the outputs of side effects that AWS cannot look up afterwards (an SNS
// message, a webhook post), keyed by Step.Key, so a re-dispatch or an agent restart does
// not send them twice. There is still a window between the send and Put in which a crash
// leads to a second send: these actions are at-least-once, and the memo makes that rare.
type Memo interface {
	Get(key string) (map[string]any, bool)
	Put(key string, outputs map[string]any) error
}

// MemoryMemo is a Memo for one process.
type MemoryMemo struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

// Get returns the outputs stored for key.
func (m *MemoryMemo) Get(key string) (map[string]any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

// Put stores outputs for key.
func (m *MemoryMemo) Put(key string, outputs map[string]any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]map[string]any{}
	}
	m.m[key] = outputs
	return nil
}

// FileMemo is a Memo in a directory (the agent's data dir), one JSON file per key, so it
// survives an agent restart. Numbers come back as float64, as JSON decodes them.
type FileMemo struct {
	Dir string
}

func (m FileMemo) path(key string) string {
	return filepath.Join(m.Dir, Token(Step{RunID: key}, false)+".json")
}

// Get returns the outputs stored for key.
func (m FileMemo) Get(key string) (map[string]any, bool) {
	b, err := os.ReadFile(m.path(key))
	if err != nil {
		return nil, false
	}
	var v struct {
		Key     string         `json:"key"`
		Outputs map[string]any `json:"outputs"`
	}
	if json.Unmarshal(b, &v) != nil || v.Key != key {
		return nil, false
	}
	return v.Outputs, true
}

// Put stores outputs for key, atomically.
func (m FileMemo) Put(key string, outputs map[string]any) error {
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	b, err := json.Marshal(map[string]any{"key": key, "outputs": outputs})
	if err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	p := m.path(key)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("memo: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return errors.Join(fmt.Errorf("memo: %w", err), os.Remove(tmp))
	}
	return nil
}
