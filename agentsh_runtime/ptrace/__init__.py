"""ptrace mode: the policy enforced by a tracer, for hosts where namespaces and seccomp
user notification are refused (AWS Fargate and similar), as `agentsh-runtime wrap` and as
the fallback of `create` (annotation dev.agentsh.ptrace)."""
