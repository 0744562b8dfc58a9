"""aigov: governance for AI models on Kubernetes GPU clusters."""

from importlib import metadata

try:
    __version__ = metadata.version("aigov")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
