"""Admission by a real Kubernetes API server: a local one (server), its API (client), the stage (stage)."""
