"""The benchmark scenarios; each is described in ``bench/README.md``."""
