"""The governance rules of aigov, as pure functions: (workload, indexes) -> Decision.

Everything here is data in, data out. Nothing in this package does I/O, calls the API server,
reads the clock or the environment behind the caller's back, or imports kopf or the Kubernetes
client (import-linter enforces it). That keeps every verdict reproducible from the admitted
object alone, identical under dry-run, and testable in microseconds: the admission and
reconcile layers gather what a rule needs and pass it in.

Modules:
    workload: any admitted object (Pod, Deployment, ..., InferenceService, Scale) as a typed view.
    gpu: does a pod template use an accelerator, and how many GPUs per pod.
    decision: Violation and Decision, the result every rule returns.
    ungoverned: the first rule, "an AI workload must name its GovernedModel".
    references: which weights a workload loads (engine arguments, env, KServe fields, local
        paths through volumes), with commandline and engineargs reading command lines.
    weights: those weights must be the model's pinned artifacts; unreadable ones are
        ModelReferenceUnresolved.
    recognition: the engine table and accelerator rules in force.
"""
