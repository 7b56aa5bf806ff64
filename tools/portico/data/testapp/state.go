package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// addStateHandlers serves what the persistence and RBAC cluster tests ask of a pod:
//
//	FILES_DIR set: PUT /files/NAME writes the body to FILES_DIR/NAME, GET /files/NAME reads it back.
//	GET /kube/PATH: GET /PATH from the Kubernetes API as the pod's ServiceAccount (its mounted token),
//	answering with the API's status code and body; 503 when no token is mounted.
func addStateHandlers(mux *http.ServeMux) {
	if dir := os.Getenv("FILES_DIR"); dir != "" {
		mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, dir) })
	}
	mux.HandleFunc("/kube/", serveKube)
}

func serveFile(w http.ResponseWriter, r *http.Request, dir string) {
	name := strings.TrimPrefix(r.URL.Path, "/files/")
	if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		http.Error(w, "one plain file name, please", http.StatusBadRequest)
		return
	}
	path := filepath.Join(dir, name)
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = os.WriteFile(path, body, 0o644)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		data, err := os.ReadFile(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = w.Write(data)
	default:
		http.Error(w, "GET or PUT", http.StatusMethodNotAllowed)
	}
}

func serveKube(w http.ResponseWriter, r *http.Request) {
	token, err := os.ReadFile(filepath.Join(serviceAccountDir, "token"))
	if err != nil {
		http.Error(w, "no ServiceAccount token mounted: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	ca, err := os.ReadFile(filepath.Join(serviceAccountDir, "ca.crt"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	host := os.Getenv("KUBERNETES_SERVICE_HOST") + ":" + os.Getenv("KUBERNETES_SERVICE_PORT")
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet,
		"https://"+host+"/"+strings.TrimPrefix(r.URL.Path, "/kube/"), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}
