package plan

import "github.com/kirikae/kirikae/catalog"

// The plan format reads the actions a step may name from the catalog package, where each
// is defined once with its typed inputs and outputs.

// Where says which part of kirikae executes an action.
type Where = catalog.Where

// Where an action runs.
const (
	OnAgent        = catalog.OnAgent
	OnControlPlane = catalog.OnControlPlane
)

// Input describes one key of a step's `with`.
type Input = catalog.Field

// Action is one entry of the catalog: what a step's `action` may name. Plan validation
// checks `with` against Inputs and `${steps.ID.outputs.NAME}` references against Outputs.
type Action = catalog.Spec

// ResourceRef says how to name the resource an undo action touches.
type ResourceRef = catalog.ResourceRef

// ActionOf returns the action called name.
func ActionOf(name string) (Action, bool) { return catalog.Lookup(name) }

// Actions returns every action, sorted by name.
func Actions() []Action { return catalog.All() }
