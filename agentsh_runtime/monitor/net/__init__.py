"""network_rules at run time: the proxies in the container's network namespace."""
