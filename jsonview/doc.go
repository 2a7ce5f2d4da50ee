// Package jsonview turns the API's protobuf messages into the JSON that people's scripts
// read: what `kirikae … -o json` prints. The gRPC API itself keeps protojson; this package
// is the one place where its messages are mapped to the scripts' convention, so the CLI,
// and later the control plane's web pages, print the same thing.
//
// The convention, for every message:
//
//   - Keys are the proto field names, in snake_case.
//   - An enum is the short lower-case word the tables show (package enum): MODE_FAILING_OVER
//     is "failing-over". The zero value (X_UNSPECIFIED) is "", as a string's zero is; a
//     number this build does not know stays a number.
//   - Integers are JSON numbers, 64-bit ones too (exact: they are written digit for digit,
//     never through a float64).
//   - A time held as *_unix_nano (or *_unix_ms, *_unix) is an RFC 3339 string in UTC with
//     as many fractional digits as it has, under the name without the suffix:
//     changed_unix_nano is "changed". An unset (zero) time is null.
//   - A string that holds JSON (*_json, and the audit entry's request) is that JSON, nested,
//     under the name without _json: outputs_json is "outputs". Empty is null; content that
//     does not parse stays a string under the new name.
//   - Durations keep their unit in their name and stay numbers: timeout_ms, staleness_ms.
//   - false, 0, "" and [] are present; an unset message is null; of a oneof only the
//     member that is set is present.
//   - bytes are base64 (standard, padded), as in protojson.
//
// It must not import the CLI or the control plane: it reads only the generated types.
package jsonview
