"""The `monitor` command line."""
