// testapp is the workload Portico's cluster tests deploy: a small HTTP server
// that says which version and pod answered, and behaves like a well-mannered
// service during rollouts (or, on request, like a badly-mannered one).
//
// Environment:
//
//	PORT            listen port (default 8080)
//	VERSION         reported version (default: the version it was built as)
//	POD_NAME        reported pod name (default: hostname)
//	STARTUP_DELAY   wait this long before listening, e.g. "5s"
//	FAIL_READINESS  "true": /readyz always answers 503
//	DRAIN           "false": on SIGTERM exit at once instead of draining
//	DRAIN_WAIT      how long a draining server waits for clients to use (and so
//	                close) their kept-alive connections (default 3s)
//	IDENTIFY        "false": answer plain text without X-Version, X-Pod (like any app)
//	ACCEPT_WHILE_DRAINING "false": close the listener at SIGTERM (most servers do);
//	                kept-alive connections still drain
//	GRPC_PORT       also serve the gRPC health service (grpc.health.v1) here
//	GRPC_STATUS     what it reports: SERVING (default) or NOT_SERVING
//	TCP_PORT        also accept (and close) plain TCP connections here, from the
//	                start (before STARTUP_DELAY)
//	FILES_DIR       serve PUT/GET /files/NAME from this directory (state.go)
//
// /kube/PATH answers GET PATH of the Kubernetes API as the pod's ServiceAccount (state.go).
// Endpoints: / and anything else (JSON: version, pod, path), /healthz, /readyz.
// Client modes instead of a server, for helm test hooks on clusters with no
// registry: `testapp get URL`, `testapp tcp HOST PORT`, `testapp grpc -addr=HOST:PORT`.
// ?delay=250ms holds a response, to keep requests in flight during a rollout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
)

type reply struct {
	Version string `json:"version"`
	Pod     string `json:"pod"`
	Path    string `json:"path"`
}

// builtVersion is set at build time (-X main.builtVersion=...); VERSION overrides it.
var builtVersion = "dev"

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// get is the client mode (`testapp get URL`), for helm test hooks on clusters
// with no registry: GET the URL, print the body, exit non-zero unless 2xx.
func get(url string) int {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		log.Printf("GET %s: %v", url, err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode/100 != 2 {
		log.Printf("GET %s: %s", url, resp.Status)
		return 1
	}
	return 0
}

func main() {
	if len(os.Args) > 1 {
		if code, ok := client(os.Args[1:]); ok {
			os.Exit(code)
		}
	}
	hostname, _ := os.Hostname()
	version := env("VERSION", builtVersion)
	pod := env("POD_NAME", hostname)
	port := env("PORT", "8080")
	failReadiness := env("FAIL_READINESS", "false") == "true"
	drain := env("DRAIN", "true") != "false"
	// IDENTIFY=false: answer like any app, without saying which version and pod answered.
	identify := env("IDENTIFY", "true") != "false"
	// Like most servers, stop accepting new connections at SIGTERM (kept-alive ones still drain):
	// then only the chart's preStop delay keeps new connections away until the endpoints are gone.
	acceptWhileDraining := env("ACCEPT_WHILE_DRAINING", "true") != "false"
	drainWait, err := time.ParseDuration(env("DRAIN_WAIT", "3s"))
	if err != nil {
		log.Fatalf("DRAIN_WAIT: %v", err)
	}

	// TCP_PORT opens before the startup delay: a readiness probe on it passes before the app serves HTTP
	// (the zero-downtime check's "readiness that lies" control).
	if tcpPort := env("TCP_PORT", ""); tcpPort != "" {
		go serveTCP(tcpPort)
	}
	if delay, err := time.ParseDuration(env("STARTUP_DELAY", "0s")); err == nil && delay > 0 {
		log.Printf("starting slowly: %s", delay)
		time.Sleep(delay)
	}

	var terminating atomic.Bool
	var open atomic.Int64 // connections not yet closed
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if failReadiness || terminating.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	addStateHandlers(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil && d > 0 && d <= 10*time.Second {
			time.Sleep(d)
		}
		if terminating.Load() {
			// Draining: answer, then close, so keep-alive clients reconnect to a
			// live pod instead of racing a close of their idle connection.
			w.Header().Set("Connection", "close")
		}
		if !identify {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Version", version)
		w.Header().Set("X-Pod", pod)
		_ = json.NewEncoder(w).Encode(reply{Version: version, Pod: pod, Path: r.URL.Path})
	})

	server := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				open.Add(1)
			case http.StateClosed, http.StateHijacked:
				open.Add(-1)
			}
		}}
	listener, err := net.Listen("tcp", server.Addr)
	if err != nil {
		log.Fatal(err)
	}
	var grpcServer *grpc.Server
	if grpcPort := env("GRPC_PORT", ""); grpcPort != "" {
		grpcServer = serveGRPCHealth(grpcPort, env("GRPC_STATUS", "SERVING"))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
		<-signals
		terminating.Store(true)
		if !drain {
			log.Printf("SIGTERM: exiting without draining")
			os.Exit(0)
		}
		grpcStopped := make(chan struct{})
		if grpcServer != nil {
			// GOAWAY on every gRPC connection now: clients open a new one (to a live pod) for their next call,
			// calls in flight finish.
			go func() { grpcServer.GracefulStop(); close(grpcStopped) }()
		}
		// Keep serving existing connections, each one's next response closing it;
		// give clients a moment to send it, then stop accepting and let in-flight
		// requests finish. Closing idle keep-alives at once would race clients.
		if !acceptWhileDraining {
			_ = listener.Close()
		}
		log.Printf("SIGTERM: draining %d connections", open.Load())
		deadline := time.Now().Add(drainWait)
		for open.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		if err := server.Shutdown(ctx); err != nil {
			log.Printf("drain: %v", err)
		}
		if grpcServer != nil {
			// The HTTP side may be done long before the gRPC calls a proxy still has in flight on the old
			// connection (hundreds under load): wait for them, up to the same deadline, then cut the rest.
			select {
			case <-grpcStopped:
			case <-ctx.Done():
				grpcServer.Stop()
			}
		}
	}()
	log.Printf("testapp %s (%s) listening on :%s", version, pod, port)
	// Serve returns when the listener closes; connections already open keep being served until Shutdown.
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) && !terminating.Load() {
		log.Fatal(err)
	}
	<-done
}
