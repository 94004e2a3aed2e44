// Command etcd is the lab's etcd server: the upstream etcdmain entry point, built from the
// version pinned in hack/versions.env (the upstream root module cannot be `go install`ed
// because its go.mod carries local replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
