package controlplane

import (
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger adapts slog to the hclog.Logger that hashicorp/raft wants.
func newHCLogger(l *slog.Logger) hclog.Logger { return &hcAdapter{l: l} }

type hcAdapter struct {
	l    *slog.Logger
	name string
}

func (a *hcAdapter) log(level slog.Level, msg string, args ...any) {
	a.l.Log(context.Background(), level, msg, args...)
}

func (a *hcAdapter) Log(level hclog.Level, msg string, args ...any) {
	a.log(toSlog(level), msg, args...)
}
func (a *hcAdapter) Trace(msg string, args ...any) { a.log(slog.LevelDebug-4, msg, args...) }
func (a *hcAdapter) Debug(msg string, args ...any) { a.log(slog.LevelDebug, msg, args...) }
func (a *hcAdapter) Info(msg string, args ...any)  { a.log(slog.LevelInfo, msg, args...) }
func (a *hcAdapter) Warn(msg string, args ...any)  { a.log(slog.LevelWarn, msg, args...) }
func (a *hcAdapter) Error(msg string, args ...any) { a.log(slog.LevelError, msg, args...) }
func (a *hcAdapter) IsTrace() bool                 { return a.l.Enabled(context.Background(), slog.LevelDebug-4) }
func (a *hcAdapter) IsDebug() bool                 { return a.l.Enabled(context.Background(), slog.LevelDebug) }
func (a *hcAdapter) IsInfo() bool                  { return a.l.Enabled(context.Background(), slog.LevelInfo) }
func (a *hcAdapter) IsWarn() bool                  { return a.l.Enabled(context.Background(), slog.LevelWarn) }
func (a *hcAdapter) IsError() bool                 { return a.l.Enabled(context.Background(), slog.LevelError) }
func (a *hcAdapter) ImpliedArgs() []any            { return nil }
func (a *hcAdapter) With(args ...any) hclog.Logger {
	return &hcAdapter{l: a.l.With(args...), name: a.name}
}
func (a *hcAdapter) Name() string { return a.name }
func (a *hcAdapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return &hcAdapter{l: a.l.With("logger", name), name: name}
}
func (a *hcAdapter) ResetNamed(name string) hclog.Logger {
	return &hcAdapter{l: a.l.With("logger", name), name: name}
}
func (a *hcAdapter) SetLevel(hclog.Level) {}
func (a *hcAdapter) GetLevel() hclog.Level {
	switch {
	case a.IsDebug():
		return hclog.Debug
	case a.IsInfo():
		return hclog.Info
	case a.IsWarn():
		return hclog.Warn
	}
	return hclog.Error
}
func (a *hcAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(a.l.Handler(), slog.LevelInfo)
}
func (a *hcAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &slogWriter{l: a.l}
}

type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.l.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}

func toSlog(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}
