package agent

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kirikae/kirikae/agent/action"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

const (
	lockFile   = "lock"
	epochFile  = "epoch"
	resultsDir = "results"
	// maxResults bounds the finished results kept in memory and on disk.
	maxResults = 1024
	// resendWindow is how long after a result was sent on a stream it is still sent again
	// after a reconnect: the protocol has no acknowledgement, so a result sent just
	// before a stream broke may never have been read.
	resendWindow = 2 * time.Minute
)

// writeFileSync writes data to path atomically and durably: a temporary file in the same
// directory, fsync, rename, then fsync of the directory so the rename survives a crash.
func writeFileSync(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp))
		}
	}()
	if _, err = f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err = f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		// The rename happened; a directory we cannot open to sync is not worth failing for.
		return nil
	}
	return errors.Join(d.Sync(), d.Close())
}

// epochStore is the highest fencing epoch the agent has seen, kept in DataDir/epoch.
type epochStore struct {
	path    string
	mu      sync.Mutex
	highest uint64
}

func openEpoch(dir string) (*epochStore, error) {
	s := &epochStore{path: filepath.Join(dir, epochFile)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read epoch: %w", err)
	}
	s.highest, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("read epoch: %s holds %q, not a number: %w", s.path, b, err)
	}
	return s, nil
}

func (s *epochStore) get() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.highest
}

// observe records epoch when it is higher than any seen, durably, before returning.
func (s *epochStore) observe(epoch uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raiseLocked(epoch)
}

// admit checks an assignment's epoch: below the highest seen it returns ErrStaleEpoch;
// otherwise it records it (durably) and returns nil.
func (s *epochStore) admit(epoch uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch < s.highest {
		return fmt.Errorf("%w %d < %d", ErrStaleEpoch, epoch, s.highest)
	}
	return s.raiseLocked(epoch)
}

func (s *epochStore) raiseLocked(epoch uint64) error {
	if epoch <= s.highest {
		return nil
	}
	if err := writeFileSync(s.path, []byte(strconv.FormatUint(epoch, 10)+"\n")); err != nil {
		return fmt.Errorf("persist epoch %d: %w", epoch, err)
	}
	s.highest = epoch
	return nil
}

// attemptKey identifies one attempt of one step.
type attemptKey struct {
	run, step string
	attempt   uint32
}

func (k attemptKey) String() string { return fmt.Sprintf("%s/%s#%d", k.run, k.step, k.attempt) }

func keyOf(run, step string, attempt uint32) attemptKey {
	return attemptKey{run: run, step: step, attempt: attempt}
}

// stored is one finished result.
type stored struct {
	res  *kirikaev1.StepResult
	sent time.Time // when it was last sent on a stream; zero if never
	file string
}

// resultFile is the on-disk form of a stored result.
type resultFile struct {
	Result json.RawMessage `json:"result"`
	Sent   int64           `json:"sent_unix_nano,omitempty"`
}

// resultStore keeps finished results in memory and in DataDir/results, one file each,
// bounded to the newest maxResults by finish time.
type resultStore struct {
	dir string
	max int

	mu    sync.Mutex
	m     map[attemptKey]*stored
	order []attemptKey // oldest first
}

func openResults(dir string, max int) (*resultStore, []error, error) {
	s := &resultStore{dir: filepath.Join(dir, resultsDir), max: max, m: map[attemptKey]*stored{}}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("results dir: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("results dir: %w", err)
	}
	// Files that cannot be read are reported and skipped: a lost result costs a re-run
	// of an idempotent step, a refusal to start costs the region its agent.
	var warnings []error
	var all []*stored
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(s.dir, name)
		if strings.HasPrefix(name, ".") {
			_ = os.Remove(path) // a temporary file left by a crash mid-write
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		st, err := readResult(path)
		if err != nil {
			warnings = append(warnings, err)
			continue
		}
		all = append(all, st)
	}
	slices.SortFunc(all, func(a, b *stored) int {
		return cmp.Compare(a.res.GetFinishedUnixNano(), b.res.GetFinishedUnixNano())
	})
	for _, st := range all {
		r := st.res
		k := keyOf(r.GetRunId(), r.GetStepId(), r.GetAttempt())
		s.m[k] = st
		s.order = append(s.order, k)
	}
	if err := s.evictLocked(); err != nil {
		warnings = append(warnings, err)
	}
	return s, warnings, nil
}

func readResult(path string) (*stored, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stored result: %w", err)
	}
	var f resultFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("stored result %s: %w", path, err)
	}
	res := &kirikaev1.StepResult{}
	if err := protojson.Unmarshal(f.Result, res); err != nil {
		return nil, fmt.Errorf("stored result %s: %w", path, err)
	}
	st := &stored{res: res, file: path}
	if f.Sent != 0 {
		st.sent = time.Unix(0, f.Sent)
	}
	return st, nil
}

func (s *resultStore) fileFor(k attemptKey) string {
	sum := sha256.Sum256([]byte(k.String()))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:16])+".json")
}

func encodeResult(st *stored) ([]byte, error) {
	rb, err := protojson.Marshal(st.res)
	if err != nil {
		return nil, err
	}
	f := resultFile{Result: rb}
	if !st.sent.IsZero() {
		f.Sent = st.sent.UnixNano()
	}
	return json.Marshal(f)
}

// get returns the stored result of an attempt.
func (s *resultStore) get(k attemptKey) (*kirikaev1.StepResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[k]
	if !ok {
		return nil, false
	}
	return st.res, true
}

// put stores a result durably. The result is kept in memory even when the write fails,
// so a duplicate assignment still finds it while this process lives.
func (s *resultStore) put(res *kirikaev1.StepResult) error {
	k := keyOf(res.GetRunId(), res.GetStepId(), res.GetAttempt())
	st := &stored{res: res, file: s.fileFor(k)}
	b, err := encodeResult(st)
	if err == nil {
		err = writeFileSync(st.file, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		s.order = append(s.order, k)
	}
	s.m[k] = st
	if err != nil {
		return errors.Join(fmt.Errorf("persist result of %s: %w", k, err), s.evictLocked())
	}
	return s.evictLocked()
}

func (s *resultStore) evictLocked() error {
	var errs []error
	for len(s.order) > s.max {
		k := s.order[0]
		s.order = s.order[1:]
		if st, ok := s.m[k]; ok {
			delete(s.m, k)
			if err := os.Remove(st.file); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("drop old result of %s: %w", k, err))
			}
		}
	}
	return errors.Join(errs...)
}

// markSent records that a result went out on a stream. The file is rewritten without a
// sync: losing this mark only costs one more (harmless) resend.
func (s *resultStore) markSent(res *kirikaev1.StepResult, at time.Time) error {
	k := keyOf(res.GetRunId(), res.GetStepId(), res.GetAttempt())
	s.mu.Lock()
	st, ok := s.m[k]
	if !ok || st.res != res {
		s.mu.Unlock()
		return nil
	}
	st.sent = at
	b, err := encodeResult(st)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("mark result of %s sent: %w", k, err)
	}
	tmp := filepath.Join(filepath.Dir(st.file), "."+filepath.Base(st.file)+".sent")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("mark result of %s sent: %w", k, err)
	}
	if err := os.Rename(tmp, st.file); err != nil {
		return errors.Join(fmt.Errorf("mark result of %s sent: %w", k, err), os.Remove(tmp))
	}
	return nil
}

// unacked lists, oldest first, the results that must be sent on a new stream: those never
// sent and those sent within resendWindow of now.
func (s *resultStore) unacked(now time.Time) []*kirikaev1.StepResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kirikaev1.StepResult
	for _, k := range s.order {
		st := s.m[k]
		if st.sent.IsZero() || now.Sub(st.sent) < resendWindow {
			out = append(out, st.res)
		}
	}
	return out
}

// undoDir holds the undo steps of attempts that are running or ended without a result.
const undoDir = "undo"

// undoStore keeps, per step (run and step id, across attempts), the undo steps recorded by
// attempts whose result is not stored yet: an executor's UndoLog.Add writes them here
// before it returns, so an attempt interrupted by a shutdown or a crash after it created
// something does not lose its undo. The next attempt of the step on this agent starts its
// log with them and reports them with its result; the file goes once a result holding
// them is stored.
type undoStore struct {
	dir string
}

// undoFile is the on-disk form of a step's pending undo steps.
type undoFile struct {
	Run  string     `json:"run"`
	Step string     `json:"step"`
	Undo []undoItem `json:"undo"`
}

type undoItem struct {
	Action string          `json:"action"`
	With   json.RawMessage `json:"with"`
	Note   string          `json:"note,omitempty"`
}

func openUndo(dir string) (*undoStore, error) {
	s := &undoStore{dir: filepath.Join(dir, undoDir)}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("undo dir: %w", err)
	}
	return s, nil
}

func (s *undoStore) fileFor(run, step string) string {
	sum := sha256.Sum256([]byte(run + "/" + step))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:16])+".json")
}

// load returns the pending undo steps of a step; none when there is no (readable) file.
func (s *undoStore) load(run, step string) ([]action.Undo, error) {
	b, err := os.ReadFile(s.fileFor(run, step))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending undo of %s/%s: %w", run, step, err)
	}
	var f undoFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("pending undo of %s/%s: %w", run, step, err)
	}
	if f.Run != run || f.Step != step {
		return nil, fmt.Errorf("pending undo file for %s/%s holds %s/%s", run, step, f.Run, f.Step)
	}
	out := make([]action.Undo, 0, len(f.Undo))
	for _, u := range f.Undo {
		with, err := decodeWith(string(u.With))
		if err != nil {
			return nil, fmt.Errorf("pending undo of %s/%s: %w", run, step, err)
		}
		out = append(out, action.Undo{Action: u.Action, With: with, Note: u.Note})
	}
	return out, nil
}

// save replaces the pending undo steps of a step, durably.
func (s *undoStore) save(run, step string, undo []action.Undo) error {
	f := undoFile{Run: run, Step: step}
	for _, u := range undo {
		with := u.With
		if with == nil {
			with = map[string]any{}
		}
		b, err := json.Marshal(with)
		if err != nil {
			return fmt.Errorf("pending undo of %s/%s: %s: %w", run, step, u.Action, err)
		}
		f.Undo = append(f.Undo, undoItem{Action: u.Action, With: b, Note: u.Note})
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("pending undo of %s/%s: %w", run, step, err)
	}
	if err := writeFileSync(s.fileFor(run, step), b); err != nil {
		return fmt.Errorf("pending undo of %s/%s: %w", run, step, err)
	}
	return nil
}

// drop removes the pending undo steps of a step once a stored result holds them.
func (s *undoStore) drop(run, step string) error {
	if err := os.Remove(s.fileFor(run, step)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop pending undo of %s/%s: %w", run, step, err)
	}
	return nil
}
