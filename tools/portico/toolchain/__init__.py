"""The pinned toolchain: pins, the tool catalog, downloads, Go builds, the installer."""

from portico.toolchain.pins import ToolchainError, load_versions

__all__ = ["ToolchainError", "load_versions"]
