"""Idempotent upload of a built corpus folder to an object store (Spaces through the S3 API).

Plan first: an object is uploaded when the remote copy is missing or its recorded SHA-256
differs (or with `force`). If anything is to be uploaded, the remote `_COMPLETE` is removed
first and written last, so readers never take a half-uploaded corpus for a complete one; a
run interrupted midway leaves the finished objects in place and the next run resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from corpus_curator.errors import UploadError
from demo_common.corpus import (
    COMPLETE_MARKER,
    DOCUMENTS_FILE,
    MANIFEST_FILE,
    PASSAGES_FILE,
    PROMPTS_FILE,
    load_corpus,
)
from demo_common.errors import ObjectStoreError
from demo_common.objectstore import ObjectStore, sha256_hex

# Data first, then the manifest that describes them, then the marker.
UPLOAD_ORDER = (DOCUMENTS_FILE, PASSAGES_FILE, PROMPTS_FILE, MANIFEST_FILE, COMPLETE_MARKER)


class Action(StrEnum):
    """What the plan does with one object."""

    UPLOAD = "upload"
    SKIP = "skip"


@dataclass(frozen=True)
class PlannedObject:
    """One object of the plan."""

    key: str
    action: Action
    bytes: int
    reason: str  # "missing", "changed", "forced", "unchanged"


@dataclass(frozen=True)
class UploadPlan:
    """The objects in upload order, and where they go."""

    destination: str
    objects: tuple[PlannedObject, ...]

    @property
    def to_upload(self) -> tuple[PlannedObject, ...]:
        """The objects that will be written."""
        return tuple(o for o in self.objects if o.action is Action.UPLOAD)

    @property
    def upload_bytes(self) -> int:
        """Bytes that will be sent."""
        return sum(o.bytes for o in self.to_upload)

    def describe(self) -> list[str]:
        """Human-readable lines, one per object, then a summary."""
        lines = [
            f"{o.action.value:<7}{o.key:<18}{o.bytes:>12,} B  ({o.reason})" for o in self.objects
        ]
        lines.append(
            f"{len(self.to_upload)} to upload ({self.upload_bytes:,} B), "
            f"{len(self.objects) - len(self.to_upload)} unchanged -> {self.destination}"
        )
        return lines


def plan_upload(local: ObjectStore, remote: ObjectStore, *, force: bool = False) -> UploadPlan:
    """Compare the local corpus (checked first: a broken one is never uploaded) with the remote."""
    load_corpus(local)  # raises CorpusError naming the file
    objects = []
    try:
        for key in UPLOAD_ORDER:
            data = local.read(key)
            remote_sha = remote.sha256(key)
            if force:
                action, reason = Action.UPLOAD, "forced"
            elif remote_sha is None:
                action, reason = Action.UPLOAD, "missing"
            elif remote_sha != sha256_hex(data):
                action, reason = Action.UPLOAD, "changed"
            else:
                action, reason = Action.SKIP, "unchanged"
            objects.append(PlannedObject(key, action, len(data), reason))
    except ObjectStoreError as exc:
        raise UploadError(str(exc)) from exc
    return UploadPlan(destination=remote.location(""), objects=tuple(objects))


def execute_upload(
    plan: UploadPlan,
    local: ObjectStore,
    remote: ObjectStore,
    on_progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Carry out `plan`; returns the number of objects written."""
    if not plan.to_upload:
        return 0
    written = 0
    try:
        remote.delete(COMPLETE_MARKER)  # the remote corpus is incomplete from here on
        for item in plan.to_upload:
            remote.write(item.key, local.read(item.key))
            written += 1
            on_progress(item.bytes)
        if all(o.key != COMPLETE_MARKER for o in plan.to_upload):
            # only the marker was current: it was deleted above, so put it back
            remote.write(COMPLETE_MARKER, local.read(COMPLETE_MARKER))
            written += 1
    except ObjectStoreError as exc:
        raise UploadError(
            f"upload interrupted ({written} objects written; rerun to resume): {exc}"
        ) from exc
    return written
