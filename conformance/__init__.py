"""OCI runtime-spec conformance cases, run side by side against several runtimes.

Run with ``.venv/bin/python -m conformance.run``; see conformance/README.md.
"""
