// Package ctl is the CLI.
package ctl
