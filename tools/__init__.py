"""Developer tooling: the local control plane. Not part of the aigov package."""
