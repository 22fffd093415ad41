// Command pubsub-emulator serves pstest, the Google Cloud Go client's in-process fake of the Pub/Sub
// API, on a loopback port, so anymq's Pub/Sub suite runs against a real gRPC server without Docker
// or a JVM. Its state lives in memory only: a restart loses every topic and message.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	port := flag.Int("port", 8085, "TCP port on 127.0.0.1")
	flag.Parse()
	server := pstest.NewServerWithAddress(fmt.Sprintf("127.0.0.1:%d", *port))
	log.Printf("pstest listening on %s", server.Addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	if err := server.Close(); err != nil {
		log.Printf("close: %v", err)
	}
}
