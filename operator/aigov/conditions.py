"""The CEL matchConditions of aigov's webhooks: the API server calls aigov only when it matters.

Generated here from the tables aigov judges by (the kinds table, the engine table, the
accelerator rules), never hand-written: webhooks.py puts them in the configurations the
operator writes, and `python -m tools.match_conditions` writes them for the Helm chart
(charts/aigov/files/match-conditions.json; a unit test keeps the two equal).

## Why a skipped request is never a hole

The API server skips a webhook when one of its conditions is false, and calls it when all
are true. Each condition below is therefore written so that it is false *only* when aigov's
own answer to the request would be "allowed, with no warning, annotation, patch, Event or
log record that changes anything" (admission/workloads.py `judge`, handlers `mutate`):

- `changes-what-runs` is false only for an UPDATE that `workloads.needs_judging` does not
  judge: the same spec once `replicas` and `suspend` are set aside, the same labels, no
  resume and no more replicas (a Scale: no more replicas). `judge` allows those unread.
- `could-be-judged` is false only for an object that names no model (on itself or a pod
  template), carries no `aigov.io/violations` record, is no serving kind, and whose every pod
  spec asks for no extended resource or DRA claim, sets no GPU env, runtime class, nodeName,
  privileged container, hostPath volume or CDI annotation, tolerates no taint outside the
  node lifecycle's, and names nothing the engine table reads (images, commands, modules,
  weight flags and variables, store URIs). Such an object is no AI workload
  (policy/ungoverned.py), cannot reach a tainted reserved pool (policy/reserved.py: the
  operator warns of an untainted one), and gets no placement rule (that needs a model), so
  every rule passes. Each test is a superset of the rule it stands for: any extended
  resource for the accelerator list, any runtime class for the GPU ones, any hostPath for
  the device paths, a substring for an engine's image component or command word.
- A kind the generator cannot read (a shape it does not know) is always sent.

Because each condition alone is sound, it does not matter which one the API server finds
false first. An error never lets a request through either: with failurePolicy Fail the API
server refuses a request whose conditions errored and none was false (Ignore skips the
webhook, as it would for an unreachable one); and every field access is guarded by has()
(`has()` of a missing parent errors), so the expressions are total on any object the API
server accepts. Their cost stays far below the API server's per-expression limit for real
objects (measured in tests/e2e/test_match_conditions.py on an object near the 3 MiB request
limit); an absurd object that exceeds it is refused, not admitted.

Engines: aigov reads the engine table for workloads that name a model (which are always
sent), so the engine clauses only widen what is sent. A platform team's extra engines
(AIGOV_ENGINES_FILE, chart values recognition.engines/generic) cannot be compiled into the
chart's fixed file, so with them `could-be-judged` is left out (every governed workload
request that changes what runs is sent), the same in the operator's configuration and the
chart.

Pure: strings in, strings out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aigov.api.constants import MODEL_LABEL, VIOLATIONS_ANNOTATION
from aigov.api.engines import EngineTable, builtin_engines
from aigov.api.kinds import KindTable, Shape, WorkloadKind, workload_kinds
from aigov.policy.gpu import CDI_PREFIX, GPU_ENV

NODE_LIFECYCLE_TAINTS = "node.kubernetes.io/"
"""Prefix of the taints the node lifecycle sets: tolerating them reaches no reserved pool."""

MAX_SPECS = 4
MAX_CONTAINERS = 8
MAX_WORDS = 16
MAX_WORD = 128
MAX_ENV = 64
"""READ_LIMITS: the API server charges CEL by the character and stops an expression at a
fixed budget (an error: the request is refused under failurePolicy Fail). So the engine
clauses read at most MAX_SPECS pod specs of MAX_CONTAINERS containers, each with at most
MAX_WORDS command words and arguments of at most MAX_WORD characters and MAX_ENV variables;
anything larger is sent to aigov unread. Real workloads fit (a long `sh -c` script is sent),
and the budget holds for any object the API server accepts (tests/e2e/test_match_conditions
measures one near the 3 MiB limit)."""

CHANGES_WHAT_RUNS = "changes-what-runs"
COULD_BE_JUDGED = "could-be-judged"
CARRIES_VIOLATIONS = "carries-violations"
NAMES_A_MODEL_OR_CARRIES_VIOLATIONS = "names-a-model-or-carries-violations"
RESERVED = "could-reach-a-reserved-pool"


def quote(value: str) -> str:
    """A CEL string literal; the tables hold plain names, so quotes are refused, not escaped."""
    if "'" in value or "\\" in value:
        raise ValueError(f"cannot quote {value!r} in a CEL literal")
    return f"'{value}'"


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(quote(v) for v in values) + "]"


def has_path(path: str) -> str:
    """`has()` of every step of `path` (a.b.c -> has(a.b) && has(a.b.c)): CEL's has() errors
    when the parent is missing, so every access is guarded from the root."""
    parts = path.split(".")
    return " && ".join(f"has({'.'.join(parts[: i + 1])})" for i in range(1, len(parts)))


# ---- the update filter ----------------------------------------------------------------------


def _replicas(o: str, missing: int) -> str:
    value = f"{o}.spec.replicas"
    return f"({has_path(value)} && type({value}) == int ? {value} : {missing})"


def _suspended(o: str) -> str:
    return f"({has_path(o + '.spec.suspend')} && {o}.spec.suspend == true)"


def _labels_same(new: str, old: str) -> str:
    """Both objects' labels absent, or both present and equal (metadata.labels)."""
    n, o = has_path(new + ".metadata.labels"), has_path(old + ".metadata.labels")
    return f"(({n}) == ({o}) && (!({n}) || {new}.metadata.labels == {old}.metadata.labels))"


def _spec_changed(new: str, old: str) -> str:
    """Spec fields other than replicas and suspend differ (workloads._without_stopping_fields).

    A spec that is no map is compared whole."""
    stopping = "['replicas', 'suspend']"
    n, o = f"{new}.spec", f"{old}.spec"
    return (
        f"(has({n}) != has({o}) || (has({n}) && (type({n}) != map || type({o}) != map ? "
        f"{n} != {o} : ({n}.exists(k, !(k in {stopping}) && (!(k in {o}) || {n}[k] != {o}[k])) "
        f"|| {o}.exists(k, !(k in {stopping}) && !(k in {n}))))))"
    )


def changes_what_runs() -> str:
    """CEL: true unless the request is an UPDATE `workloads.needs_judging` lets through unread."""
    new, old = "object", "oldObject"
    scale_up = f"{_replicas(new, 0)} > {_replicas(old, 0)}"
    update = (
        f"!{_labels_same(new, old)} || {_spec_changed(new, old)} || "
        f"({_suspended(old)} && !{_suspended(new)}) || {_replicas(new, 1)} > {_replicas(old, 1)}"
    )
    return (
        f"request.operation != 'UPDATE' || {old} == null || {new} == null || "
        f"(has(request.subResource) && request.subResource != '' ? "
        f"(request.subResource == 'status' ? !{_labels_same(new, old)} : "
        f"(request.subResource != 'scale' || {scale_up})) : ({update}))"
    )


# ---- what could make aigov act --------------------------------------------------------------


def _extended(r: str) -> str:
    """The resources block `r` (known to exist) asks for an extended resource (a name with a
    domain: nvidia.com/gpu, amd.com/gpu, deviceclass.resource.kubernetes.io/<class>, ...) or
    holds a DRA claim: a superset of every accelerator list (policy/gpu.py)."""
    return (
        f"(has({r}.limits) && {r}.limits.exists(k, k.contains('/'))) || "
        f"(has({r}.requests) && {r}.requests.exists(k, k.contains('/'))) || "
        f"(has({r}.claims) && size({r}.claims) > 0)"
    )


def _minimal(needles: Iterable[str]) -> list[str]:
    """The needles no other needle is a substring of: `contains` of the rest is implied."""
    unique = sorted(set(needles))
    return [n for n in unique if not any(m != n and m in n for m in unique)]


class EngineNeedles:
    """What the engine table reads, as substrings and names CEL can test cheaply."""

    def __init__(self, table: EngineTable) -> None:
        images: list[str] = []
        prefixes: list[str] = []
        words: list[str] = []
        env: list[str] = list(table.generic.env)
        for engine in table.engines:
            images.extend(i.lower() for i in engine.images)
            prefixes.extend(engine.image_prefixes)
            words.extend(c.split()[0].rsplit("/", 1)[-1] for c in engine.commands if c.split())
            words.extend(engine.modules)
            for spec in engine.all_specs:
                if spec.format.value == "ignore":
                    continue
                env.extend(spec.env)
                for flag in spec.flags:
                    words.append(flag)
                    if engine.normalize_underscores and flag.startswith("--"):
                        words.append("--" + flag[2:].replace("-", "_"))
        words.extend(table.generic.flags)
        self.images = _minimal(images)
        """Image components: a component equal to one or starting with it contains it."""
        self.prefixes = sorted(set(prefixes))
        self.words = _minimal(words)
        """Command words, modules and weight flags: found in a command or argument (alone,
        `--flag=value`, or inside a shell script) only if it contains one of these."""
        self.env = sorted(set(env))
        self.uris = sorted({f"{s}://" for s in table.generic.schemes})

    def container(self, c: str) -> str:
        """CEL: container `c` names something the engine table reads, or holds more words
        than the cost budget lets CEL read (see READ_LIMITS): then it is sent unread."""
        word = (
            f"size(w) > {MAX_WORD} || {_list(self.words)}.exists(n, w.contains(n)) || "
            f"(w.contains('://') && {_list(self.uris)}.exists(u, w.contains(u)))"
        )
        image = " || ".join(
            [
                f"size({c}.image) > {MAX_WORD}",
                *(f"{c}.image.startsWith({quote(p)})" for p in self.prefixes),
                f"{_list(self.images)}.exists(n, {c}.image.lowerAscii().contains(n))",
            ]
        )
        words = " || ".join(
            f"(has({c}.{f}) && (size({c}.{f}) > {MAX_WORDS} || {c}.{f}.exists(w, {word})))"
            for f in ("command", "args")
        )
        return f"(has({c}.image) && ({image})) || {words}"


_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _containers(s: str) -> str:
    """CEL: every container of pod spec `s` (app, init, ephemeral) as one list."""
    return " + ".join(f"(has({s}.{f}) ? {s}.{f} : [])" for f in _CONTAINER_LISTS)


def _container_matters(c: str, engines: EngineNeedles) -> str:
    """CEL: container `c` reaches an accelerator or names what an engine loads (cheap tests
    first: `||` stops at the first true)."""
    privileged = f"{c}.securityContext.privileged"
    env = _list(sorted({*GPU_ENV, *engines.env}))
    return (
        f"(has({c}.resources) && ({_extended(c + '.resources')})) || "
        f"({has_path(privileged)} && {privileged} == true) || {engines.container(c)} || "
        f"(has({c}.env) && (size({c}.env) > {MAX_ENV} || "
        f"{c}.env.exists(e, has(e.name) && e.name in {env})))"
    )


def _pod_level(s: str) -> str:
    """CEL on pod spec `s`, beside its containers: a DRA claim, pod-level extended resources,
    a runtime class, a node name, or a toleration of a taint outside the node lifecycle's."""
    return (
        f"(has({s}.resourceClaims) && size({s}.resourceClaims) > 0) || "
        f"(has({s}.resources) && ({_extended(s + '.resources')})) || "
        f"has({s}.runtimeClassName) || (has({s}.nodeName) && {s}.nodeName != '') || "
        f"(has({s}.tolerations) && {s}.tolerations.exists(t, !has(t.key) || "
        f"!t.key.startsWith('{NODE_LIFECYCLE_TAINTS}')))"
    )


def reaches_reserved(s: str) -> str:
    """CEL on pod spec `s`: asks for an accelerator or a DRA claim, reaches GPUs by env or
    runtime class, names its node, or tolerates a taint other than the node lifecycle's (so
    it could land on a tainted GPU pool)."""
    container = (
        f"(has(c.resources) && ({_extended('c.resources')})) || "
        f"(has(c.env) && c.env.exists(e, has(e.name) && e.name in {_list(GPU_ENV)}))"
    )
    return f"({_containers(s)}).exists(c, {container}) || {_pod_level(s)}"


def _pod_spec_matters(s: str, engines: EngineNeedles) -> str:
    """CEL on pod spec `s`: anything that makes it an AI workload or exposes a reserved pool."""
    each = f"l.exists(c, {_container_matters('c', engines)})"
    return (
        f"{_pod_level(s)} || (has({s}.volumes) && {s}.volumes.exists(v, has(v.hostPath))) || "
        f"[{_containers(s)}].exists(l, size(l) > {MAX_CONTAINERS} || {each})"
    )


def _labelled(m: str) -> str:
    """CEL on metadata `m` (known to exist): it carries the model label."""
    return f"(has({m}.labels) && '{MODEL_LABEL}' in {m}.labels)"


def _cdi(m: str) -> str:
    return f"(has({m}.annotations) && {m}.annotations.exists(k, k.startsWith('{CDI_PREFIX}')))"


def value_at(root: str, path: str) -> str:
    """CEL: the value at dotted `path` under `root`, or an empty map where it is absent."""
    full = f"{root}.{path}"
    return f"({has_path(full)} ? {full} : {{}})"


def values_at(path: str) -> str:
    """CEL: a list of the values at `path` under `object` (`[*]`: each item of a list; one
    level of them); absent values are empty maps, which match nothing."""
    head, star, rest = path.partition("[*]")
    if not star:
        return f"[{value_at('object', path)}]"
    if "[*]" in rest:
        raise ValueError(f"{path}: one [*] per path is all conditions can read")
    items = f"object.{head}"
    each = value_at("x", rest.removeprefix(".")) if rest else "x"
    return f"({has_path(items)} ? {items}.map(x, {each}) : [])"


class _Where:
    """Where a kind keeps its pods' labels and pod specs, as CEL lists."""

    def __init__(self, kind: WorkloadKind) -> None:
        if kind.shape is Shape.TEMPLATES:
            self.metas = [values_at(f"{p}.metadata") for p in kind.templates]
            self.specs = [values_at(f"{p}.spec") for p in kind.templates]
        elif kind.shape is Shape.POD:
            self.metas, self.specs = [], [values_at("spec")]
        elif kind.shape is Shape.POD_SPECS:
            self.metas, self.specs = [], [values_at(p) for p in kind.pod_specs]
        else:
            raise ValueError(f"{kind.kind}: shape {kind.shape} has no pod specs to read")

    @staticmethod
    def joined(parts: list[str]) -> str:
        return " + ".join(parts) if parts else "[]"


def _readable(kind: WorkloadKind) -> bool:
    """Kinds whose every pod spec the conditions read; the others are always sent."""
    if kind.serving or kind.weights:
        return False
    try:
        _Where(kind)
    except ValueError:
        return False
    return True


def _by_resource(kinds: list[WorkloadKind], part: Callable[[_Where], list[str]]) -> str:
    """CEL choosing the list `part` gives for the request's resource (kinds of one layout
    share a branch)."""
    branches: dict[str, list[str]] = {}
    for kind in kinds:
        branches.setdefault(_Where.joined(part(_Where(kind))), []).append(kind.plural)
    *tests, (last, _) = branches.items()
    result = last
    for value, plurals in reversed(tests):
        result = f"(request.resource.resource in {_list(plurals)} ? {value} : {result})"
    return result


def _object_matters(kinds: KindTable, engines: EngineNeedles) -> str:
    """CEL: an object of a kind the conditions read holds something that could make aigov
    act; an object of any other kind (serving kinds, unknown shapes) is always sent."""
    plurals = [k.plural for k in kinds.kinds]
    if len(plurals) != len(set(plurals)):
        raise ValueError("the kinds table names a plural twice: conditions dispatch on it")
    readable = [k for k in kinds.kinds if _readable(k)]
    metas = _by_resource(readable, lambda w: w.metas)
    specs = _by_resource(readable, lambda w: w.specs)
    return (
        f"!(request.resource.resource in {_list(k.plural for k in readable)}) || "
        f"(has(object.metadata) && {_cdi('object.metadata')}) || "
        f"({metas}).exists(m, {_labelled('m')} || {_cdi('m')}) || "
        f"[{specs}].exists(l, size(l) > {MAX_SPECS} || "
        f"l.exists(s, {_pod_spec_matters('s', engines)}))"
    )


def names_a_model(o: str = "object") -> str:
    """CEL: the object itself carries the model label (what inject mode needs)."""
    return f"({has_path(o + '.metadata.labels')} && '{MODEL_LABEL}' in {o}.metadata.labels)"


def carries_violations(o: str = "object") -> str:
    """CEL: the object holds an audit record aigov may have to clear."""
    return (
        f"({has_path(o + '.metadata.annotations')} && "
        f"'{VIOLATIONS_ANNOTATION}' in {o}.metadata.annotations)"
    )


def could_be_judged(kinds: KindTable | None = None, engines: EngineTable | None = None) -> str:
    """CEL: the request could get anything but a plain allow from aigov (module docstring)."""
    table = kinds or workload_kinds()
    needles = EngineNeedles(engines or builtin_engines())
    return (
        "(has(request.subResource) && request.subResource == 'scale') || "
        f"{names_a_model()} || {carries_violations()} || "
        f"(oldObject != null && {names_a_model('oldObject')}) || "
        f"{_object_matters(table, needles)}"
    )


def workload_conditions(
    kinds: KindTable | None = None, engines: EngineTable | None = None, extra_engines: bool = False
) -> list[dict[str, str]]:
    """The workloads webhooks' conditions in governed namespaces (validating; mutating in
    audit namespaces). With a platform team's extra engines, only the update filter."""
    found = [{"name": CHANGES_WHAT_RUNS, "expression": changes_what_runs()}]
    if not extra_engines:
        found.append({"name": COULD_BE_JUDGED, "expression": could_be_judged(kinds, engines)})
    return found


def governed_mutation_conditions(inject: bool) -> list[dict[str, str]]:
    """The mutating workloads webhook's conditions in enforce and warn namespaces: an audit
    record to clear, and, while an injecting PlacementPolicy exists, a model to inject for."""
    if inject:
        found = {
            "name": NAMES_A_MODEL_OR_CARRIES_VIOLATIONS,
            "expression": f"{names_a_model()} || {carries_violations()}",
        }
    else:
        found = {"name": CARRIES_VIOLATIONS, "expression": carries_violations()}
    return [{"name": CHANGES_WHAT_RUNS, "expression": changes_what_runs()}, found]
