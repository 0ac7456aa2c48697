"""References point somewhere: every relative link in the repo's Markdown resolves, every repo
path cited in code, comments and docs exists, and nothing cites what the repo does not hold (a
path outside it, an issue tracker, "design notes", a document that is not there)."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTSIDE = ("../" + "shared/", "shared/" + "calibration")  # split so this file does not match
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".mk", ".tf", ".ts", ".tsx", ".toml", ".sh", ""}
# [text](target) in Markdown, images included; the target up to a space, `#` or `)`.
MD_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s#]+)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")
ROOTS = ("apps", "libs", "benchmarks", "docs", "k8s", "terraform", "tests", "mk", "scripts",
         "observability", ".ci")  # fmt: skip
# A repo path: one of the top folders, then path characters; stops at quotes, spaces, `)`.
REPO_PATH = re.compile(r"(?<![\w./$-])(?:" + "|".join(map(re.escape, ROOTS)) + r")/[\w./-]*\w")
PLACEHOLDER = re.compile(r"[*<>{}]|\.\.\.")
MD_NAME = re.compile(r"(?<![\w/.-])([A-Za-z][\w-]*\.md)\b")
# Not paths of this repo: a Kubernetes apiVersion, other projects' files cited with the project's
# name (TensorRT-LLM's docs, the DigitalOcean provider's changelog), a UI test's made-up record.
NOT_OURS = {"apps/v1", "docs/source/1.0/features", "docs/source/1.0/features/disagg-serving.md",
            "CHANGELOG.md", "disagg-serving.md", "benchmarks/records/x/compare"}  # fmt: skip
NO_TRACKER = re.compile(r"\b(?:issues? #?\d+|design notes)\b", re.IGNORECASE)


@cache
def tracked() -> tuple[str, ...]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return tuple(out.stdout.split())


def texts(*, records: bool) -> list[tuple[str, str]]:
    """(path, text) of the tracked text files (kept records only when asked)."""
    found = []
    for name in tracked():
        path = REPO / name
        if not records and name.startswith("benchmarks/records/"):
            continue
        if path.suffix not in TEXT_SUFFIXES or name.endswith(".lock") or not path.is_file():
            continue
        try:
            found.append((name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def relative_links(markdown: str) -> list[str]:
    return [t for t in MD_LINK.findall(markdown) if not re.match(r"[a-z]+:", t)]


def cited_paths(text: str) -> list[str]:
    return [p for p in REPO_PATH.findall(text) if not PLACEHOLDER.search(p)]


def _ignored(cited: str) -> bool:
    """Generated and gitignored (the UI build, Terraform's working folders)."""
    for form in (cited, f"{cited}/"):  # `dist/` patterns match folders only
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", form], cwd=REPO,
                              check=False)  # fmt: skip
        if done.returncode == 0:
            return True
    return False


def resolves(cited: str, citing: str) -> bool:
    """From the repo root or from a folder of the citing file (an app cites its own `tests/`),
    as a file, a folder, or a prefix of tracked files (`scaledobject-{pool}.yaml`)."""
    folders = [REPO, *(REPO / citing).parents]
    if any((folder / cited).exists() for folder in folders if folder.is_relative_to(REPO)):
        return True
    return any(name.startswith(cited) for name in tracked()) or _ignored(cited)


def test_the_readers_find_links_paths_and_tracker_references() -> None:
    md = 'See [a](docs/x.md#part), ![img](../y.png "t"), [w](https://e.org) and [h](#h).'
    assert relative_links(md) == ["docs/x.md", "../y.png"]
    text = "from apps/load-generator/src/x.py, `k8s/keda/<env>/a`, $HOME/mk/x, tests/a.py."
    assert cited_paths(text) == ["apps/load-generator/src/x.py", "k8s/keda", "tests/a.py"]
    assert resolves("k8s/keda/base/scaledobject", "README.md")  # a prefix of tracked files
    assert resolves("tests/unit", "apps/local-cluster/src/localcluster/x.py")  # the app's own
    assert not resolves("docs/LAYOUT.md", "README.md")
    assert NO_TRACKER.findall("see issue 9 and Issues 10, the Design Notes") == [
        "issue 9", "Issues 10", "Design Notes"
    ]  # fmt: skip
    assert MD_NAME.findall("in LAYOUT.md, docs/deploy.md and README.md") == [
        "LAYOUT.md", "README.md"
    ]  # fmt: skip


def test_every_relative_link_in_the_markdown_resolves() -> None:
    broken = [
        f"{name}: {target}"
        for name, text in texts(records=True)
        if name.endswith(".md")
        for target in relative_links(text)
        if not (REPO / name).parent.joinpath(target).resolve().exists()
    ]
    assert broken == []


def test_every_repo_path_cited_in_code_and_docs_exists() -> None:
    missing = sorted(
        {f"{name}: {cited}" for name, text in texts(records=False) for cited in cited_paths(text)
         if cited not in NOT_OURS and not resolves(cited, name) and Path(__file__).name not in name}
    )  # fmt: skip
    assert missing == []


def test_every_markdown_document_named_exists() -> None:
    names = {Path(n).name for n in tracked() if n.endswith(".md")}
    missing = sorted(
        {f"{name}: {doc}" for name, text in texts(records=False) for doc in MD_NAME.findall(text)
         if doc not in names | NOT_OURS and Path(__file__).name not in name}
    )  # fmt: skip
    assert missing == []


def test_nothing_cites_an_issue_tracker_or_notes_outside_the_repo() -> None:
    cited = [
        f"{name}: {hit}"
        for name, text in texts(records=False)
        if Path(__file__).name not in name
        for hit in NO_TRACKER.findall(text)
    ]
    assert cited == []


def test_no_tracked_file_cites_a_path_outside_the_repo() -> None:
    offenders = [
        name
        for name, text in texts(records=False)
        if not name.startswith("docs/")
        and any(pattern in text for pattern in OUTSIDE)
        and Path(__file__).name not in name
    ]
    assert offenders == []
