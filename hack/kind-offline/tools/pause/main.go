// Command pause is the offline kind node's pod sandbox process: it sleeps until SIGINT or
// SIGTERM and exits 0 (what registry.k8s.io/pause does). It reaps nothing: it is never PID 1 of
// a pod that shares its process namespace in this lab.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("pause (dnsrace offline stand-in)\n")
		return
	}
	s := make(chan os.Signal, 1)
	signal.Notify(s, syscall.SIGINT, syscall.SIGTERM)
	<-s
}
