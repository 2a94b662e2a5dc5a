"""The `listserv` command line (placeholder entry until the CLI lands)."""
