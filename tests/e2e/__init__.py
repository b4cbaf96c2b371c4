"""End-to-end tests: real server processes, real clients."""
