package main

import (
	"context"
	"log"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// client runs a client mode; ok is false when args name none.
func client(args []string) (code int, ok bool) {
	switch {
	case len(args) == 2 && args[0] == "get":
		return get(args[1]), true
	case len(args) == 3 && args[0] == "tcp":
		return tcpConnect(net.JoinHostPort(args[1], args[2])), true
	case len(args) == 2 && args[0] == "grpc" && strings.HasPrefix(args[1], "-addr="):
		return grpcHealth(strings.TrimPrefix(args[1], "-addr=")), true
	}
	return 0, false
}

func tcpConnect(addr string) int {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		log.Printf("connect %s: %v", addr, err)
		return 1
	}
	_ = conn.Close()
	log.Printf("connect %s: ok", addr)
	return 0
}

// grpcHealth asks the standard health service for the server's overall status.
func grpcHealth(addr string) int {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Printf("grpc %s: %v", addr, err)
		return 1
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		log.Printf("grpc health %s: %v", addr, err)
		return 1
	}
	log.Printf("grpc health %s: %s", addr, resp.GetStatus())
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return 1
	}
	return 0
}

// serveGRPCHealth serves the standard health service on port; the server it returns is for the drain
// (GracefulStop: GOAWAY on every connection, so clients move to another pod, then in-flight calls finish).
func serveGRPCHealth(port, status string) *grpc.Server {
	lis, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Fatalf("grpc: %v", err)
	}
	server := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_ServingStatus(healthpb.HealthCheckResponse_ServingStatus_value[status]))
	healthpb.RegisterHealthServer(server, h)
	log.Printf("grpc health on :%s reports %s", port, status)
	go func() {
		if err := server.Serve(lis); err != nil {
			log.Printf("grpc: %v", err)
		}
	}()
	return server
}

func serveTCP(port string) {
	lis, err := net.Listen("tcp", ":"+port)
	if err != nil {
		log.Fatalf("tcp: %v", err)
	}
	log.Printf("tcp on :%s", port)
	for {
		conn, err := lis.Accept()
		if err != nil {
			log.Printf("tcp: %v", err)
			return
		}
		_ = conn.Close()
	}
}
