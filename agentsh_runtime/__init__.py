"""agentsh-runtime: an OCI runtime that enforces agentsh policies."""

__version__ = "0.1.0"
# The runtime-spec version this runtime implements and writes into state.
OCI_VERSION = "1.2.0"
