// Package readme keeps the Go snippets of the project's README.md
// compiling: its test file holds each snippet verbatim, and a test checks
// that README.md and that file still agree.
package readme
