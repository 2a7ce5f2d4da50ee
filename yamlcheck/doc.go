// Package yamlcheck holds what kirikae's strict YAML file validators share: reading one
// document within size limits, walking mappings, scalars and lists with their line
// numbers, suggesting the name a typo meant, and collecting every problem as
// FILE:LINE: FIELD: MESSAGE.
//
// It knows nothing of any one format: plan (plan files) and system (system files) build
// their validators on it, and each owns its fields, its messages about them and its error
// type. A validator walks the yaml.Node tree that [Load] returns with the methods of
// [Problems], which report a problem and return ok=false instead of failing, so one pass
// finds every problem in a file.
//
// Load refuses, before any work that grows faster than the file, a file past its byte
// limit, mappings and lists nested past the depth limit, an alias inside the node it
// names, and aliases that expand the file past the expansion limit; every later walk of
// the tree, recursive or not, is bounded by these limits.
package yamlcheck
