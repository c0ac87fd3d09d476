"""``python -m bench``: every scenario against a fresh server (see ``bench.run``)."""

from bench.run import main

main()
