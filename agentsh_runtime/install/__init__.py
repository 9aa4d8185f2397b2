"""Registering agentsh-runtime with podman, containerd and Docker (`agentsh-runtime install`)."""
