// Package lsd is BEP 14 Local Service Discovery.
package lsd
