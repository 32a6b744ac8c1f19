// Package domain defines SharePanel's entities, the plan catalog, API key
// handling, input validation and the typed errors that carry the API's
// messages and status codes.
//
// The package depends only on the standard library, the validator and
// golang.org/x/crypto, so every other package (including the WebAssembly
// builds) can use it.
package domain
