"""Typed clients for the CLIs Portico drives, one small class each (like chart-testing's pkg/tool).

Each takes a `portico.process.Runner`; unit tests hand it a `FakeRunner`.
"""
