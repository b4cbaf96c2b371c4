"""Read-model revisions; a package so that it ships with the wheel."""
