"""aigov."""
