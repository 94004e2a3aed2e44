// Command etcd-benchmark is etcd's own benchmark tool (tools/benchmark of the etcd repository),
// which `make bench` runs against the record-store etcd to measure the store's raw limit. Its
// package lives in the root module go.etcd.io/etcd/v3, which carries local replace directives
// and so cannot be `go install`ed; this wrapper builds it (see hack/versions.env for versions).
package main

import (
	"fmt"
	"os"

	"go.etcd.io/etcd/v3/tools/benchmark/cmd"
)

func main() {
	if err := cmd.RootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
