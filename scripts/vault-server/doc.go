// Package vaultserver exists only so this module can hold the pinned Vault
// server in its build list; `go build -mod=mod github.com/hashicorp/vault`
// builds the server binary from it.
package vaultserver
