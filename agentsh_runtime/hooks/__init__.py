"""OCI hooks: when each kind runs is decided by the lifecycle; running one is here."""
