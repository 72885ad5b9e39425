"""`graphnet compare`: the static-versus-dynamic trade-off measured on every axis, in one
report. See docs/compare.md for the study and the schema of results.json."""
