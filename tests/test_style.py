"""Formatting and lint gates, run as tests so that CI runs exactly the README's command."""

import ast
import shutil
import subprocess
import sys

import pytest

from conftest import REPO


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv" / "bin"))
    if path is None:
        pytest.fail(f"{name} is not installed; install the test extras: pip install -e '.[test]'")
    return path


def test_ruff_lint():
    result = run(tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = run(tool("ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt():
    result = run(tool("snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint():
    result = run(sys.executable, "-m", "snakemake", "--lint", "--cores", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_every_rule_explains_itself_in_list_rules():
    result = run(sys.executable, "-m", "snakemake", "--list-rules", "--cores", "1")
    assert result.returncode == 0, result.stderr
    rules = [line for line in result.stdout.splitlines() if line and not line[0].isspace()]
    assert len(rules) > 15
    assert all(line.endswith(")") and " (" in line for line in rules), rules


def test_no_function_in_the_package_is_longer_than_60_lines():
    """A function that does not fit on a screen does several things: split it (the
    answer's comparisons by question, a figure's layers and caption apart)."""
    long = [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for path in sorted((REPO / "src/ddprune").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long, long
