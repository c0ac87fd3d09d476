"""The benchmark harness: ``make bench`` (``python -m bench``) measures a running Callbridge server."""
