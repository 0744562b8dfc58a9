"""Rules ArtifactNotApproved (weights) and ModelReferenceUnresolved.

Every model reference a workload loads (see references.py) must be one of its
GovernedModel's pinned weight artifacts: a Hugging Face repository at the approved commit
revision, a store URI (or a path inside one) whose artifact carries a digest, an OCI
artifact or image by digest. A reference that does not pin itself (a Hub name without a
revision, an OCI tag) is refused like a mutable image tag: what it loads can change after
approval. Paths inside the container image or in an emptyDir filled by init containers are
covered by those images, which the image rule judges.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aigov.api.constants import Reason
from aigov.api.lineage import Artifact
from aigov.api.models import GovernedModel
from aigov.policy.decision import Violation
from aigov.policy.references import ModelReference, Resolution, Target


@dataclass(frozen=True)
class _Approved:
    """The model's weights, indexed the way references are compared."""

    hf: dict[str, Artifact]
    uris: tuple[tuple[str, Artifact], ...]
    oci: frozenset[tuple[str, str]]
    """(repository, sha256 digest) of image artifacts and digest-pinned oci:// uris."""

    @classmethod
    def of(cls, model: GovernedModel) -> _Approved:
        hf: dict[str, Artifact] = {}
        uris: list[tuple[str, Artifact]] = []
        oci: set[tuple[str, str]] = set()
        for artifact in model.spec.artifacts:
            if artifact.image and artifact.image_digest:
                oci.add((_repository(artifact.image), artifact.image_digest))
            uri = (artifact.uri or "").strip()
            if artifact.is_hugging_face:
                hf[uri.removeprefix("hf://").strip("/").lower()] = artifact
            elif uri.startswith("oci://"):
                repo, _, digest = uri.removeprefix("oci://").partition("@")
                digest = digest or artifact.digest or ""
                if digest.startswith("sha256:"):
                    oci.add((_repository(repo), digest))
            elif uri:
                uris.append((uri.rstrip("/"), artifact))
        return cls(hf, tuple(uris), frozenset(oci))


def _listing(model: GovernedModel) -> str:
    """The model's pinned weights, for messages: ``hf://org/name@<rev>, s3://...``."""
    names = [
        f"{a.uri}@{a.revision}" if a.is_hugging_face else str(a.uri)
        for a in model.spec.artifacts
        if a.uri and a.is_pinned
    ]
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
    return shown or "none (only images)"


def _repository(image: str) -> str:
    """``registry/repo[:tag][@digest]`` -> ``registry/repo``."""
    name = image.split("@", 1)[0]
    return name[: name.rfind(":")] if name.rfind(":") > name.rfind("/") else name


def _covers(artifact_uri: str, uri: str) -> bool:
    """The artifact is that URI, or a directory the URI lies in."""
    return uri == artifact_uri or uri.startswith(artifact_uri + "/")


def reference_violations(resolution: Resolution, model: GovernedModel) -> list[Violation]:
    """Violations of every reference and unresolved place in `resolution`."""
    found = [
        Violation(
            Reason.MODEL_REFERENCE_UNRESOLVED,
            f"{u.message}; aigov never lets unidentified weights run",
            u.path,
        )
        for u in resolution.unresolved
    ]
    if not resolution.references:
        return found
    approved = _Approved.of(model)
    name = model.metadata.name
    for ref in resolution.references:
        problem = _problem(ref, approved)
        if problem is not None:
            message, path = problem
            found.append(
                Violation(
                    Reason.ARTIFACT_NOT_APPROVED,
                    f"{ref.describe()} {message} (GovernedModel {name!r} approves: "
                    f"{_listing(model)})",
                    path,
                )
            )
    return found


def _problem(ref: ModelReference, approved: _Approved) -> tuple[str, str] | None:
    """(what is wrong, path) or None when the reference is an approved, pinned artifact."""
    if ref.target in {Target.IMAGE, Target.PULLED}:
        return None
    if ref.target is Target.HUGGING_FACE:
        return _hugging_face(ref, approved)
    if ref.target is Target.OCI:
        return _oci(ref, approved)
    matches: Sequence[Artifact] = [a for u, a in approved.uris if _covers(u, ref.uri)]
    resolved = f" (resolved to {ref.uri})" if ref.uri != ref.value.rstrip("/") else ""
    if not matches:
        return f"is not an artifact of the model{resolved}", ref.path
    if not any(a.is_digest_pinned for a in matches):
        return (
            f"matches artifact {matches[0].name!r}, which has no digest: what the URI holds "
            "can change after approval",
            ref.path,
        )
    return None


def _oci(ref: ModelReference, approved: _Approved) -> tuple[str, str] | None:
    repo, _, digest = ref.uri.removeprefix("oci://").partition("@")
    if not digest.startswith("sha256:"):
        return "is not pinned by digest: a tag can be re-pointed after approval", ref.path
    if (_repository(repo), digest) not in approved.oci:
        return "is not an artifact of the model", ref.path
    return None


def _hugging_face(ref: ModelReference, approved: _Approved) -> tuple[str, str] | None:
    repo = ref.uri.removeprefix("hf://")
    artifact = approved.hf.get(repo)
    if artifact is None or not artifact.is_pinned:
        return f"(hf://{repo}) is not an artifact of the model", ref.path
    if ref.revision is None:
        return (
            f"names no revision, so it loads whatever the Hub's main branch holds when it "
            f"starts: pin it to the approved commit {artifact.revision} (e.g. --revision, or "
            "env REVISION)",
            ref.path,
        )
    if ref.revision != artifact.revision:
        return (
            f"is pinned to revision {ref.revision!r}, not the approved commit {artifact.revision}",
            ref.revision_path or ref.path,
        )
    return None
