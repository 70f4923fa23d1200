"""The package tree keeps its import directions: each stage imports only the stages below it.

The rules are those the subpackages' docstrings state (livegen/*/__init__.py);
STAGE_MAY_IMPORT below is their table. Imports are read statically with ast
from every source file, so a lazy import inside a function counts too, and
then checked at run time in a fresh interpreter: importing every module, and
starting `livegen run`, must load no training framework and no pytest.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Package -> folder, as pyproject.toml's package-dir installs them.
SOURCES = {"livegen": ROOT / "livegen", "livegen.export": ROOT / "export"}

# What each stage (livegen.<stage>) may import of livegen, besides itself, livegen.errors and livegen's root.
EVERY_STAGE = {"abc", "model", "compose", "perform", "realtime", "control", "session", "offline", "cli", "export"}
STAGE_MAY_IMPORT = {
    "errors": set(),
    "abc": set(),
    "model": set(),
    "compose": {"abc", "model"},
    "perform": {"abc"},
    "realtime": {"perform"},
    "control": {"abc", "compose"},
    "session": {"abc", "model", "compose", "perform", "realtime", "control"},
    "offline": {"abc", "model", "compose", "perform"},
    "cli": EVERY_STAGE,
    "__main__": {"cli"},
    # Training runs headless: it builds on the ABC reading and the model contract, never on the live half.
    "export": {"abc", "model", "compose", "perform", "offline"},
    # The harnesses drive livegen from outside; nothing in livegen imports them.
    "testing": EVERY_STAGE - {"cli", "export"},
}
# Imports allowed only inside a function, so that the module's import never pays for (or needs) them.
ONLY_LAZILY = {("cli", "export")}

TRAINING_FRAMEWORKS = {"tensorflow", "keras", "tf2onnx", "onnx"}


class Import:
    def __init__(self, module: str, lazy: bool, line: int):
        self.module, self.lazy, self.line = module, lazy, line


def module_name(package: str, folder: Path, path: Path) -> str:
    parts = path.relative_to(folder).with_suffix("").parts
    return ".".join([package, *(part for part in parts if part != "__init__")])


def source_files() -> dict[str, Path]:
    """Every livegen module by name, export/ under livegen.export as installed."""
    return {module_name(package, folder, path): path
            for package, folder in SOURCES.items() for path in sorted(folder.rglob("*.py"))}


def imports_of(module: str, source: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import in the source, relative ones resolved; `from package import module` names the module."""
    tree = ast.parse(source)
    top_level = {id(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[:len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found += [Import(name, id(node) not in top_level, node.lineno) for name in names]
    return found


def stage_of(module: str) -> str | None:
    """'abc' for livegen.abc.parser, 'errors' for livegen.errors; None for livegen's root and outside livegen."""
    parts = module.split(".")
    return parts[1] if parts[0] == "livegen" and len(parts) > 1 else None


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(requirements: list[str]) -> set[str]:
    """The distribution names in requirements such as "python-osc>=1.8"."""
    return {normalised(re.match(r"[A-Za-z0-9_.-]+", requirement)[0]) for requirement in requirements}


def provided_by(top_level: str, allowed: set[str]) -> bool:
    """Whether a distribution among `allowed` provides the import name (python-rtmidi gives rtmidi)."""
    return any(normalised(name) in allowed for name in installed().get(top_level, [top_level]))


@functools.cache
def installed() -> dict[str, list[str]]:
    """Import names to the installed distributions that provide them (slow to build, so once)."""
    return packages_distributions()


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = distributions(PROJECT["dependencies"])
# Extras (the piano roll's matplotlib, a harness's Link peer) are imported inside the function that needs them.
EXTRAS = distributions([requirement for extra, requirements in PROJECT["optional-dependencies"].items()
                        if extra not in ("train", "dev") for requirement in requirements])


def violations(module: str, imports: list[Import]) -> list[str]:
    """What breaks the rules in one module's imports, one line each."""
    here = stage_of(module)
    allowed = STAGE_MAY_IMPORT[here] | {here, "errors"} if here else set()
    problems = []
    for found in imports:
        top = found.module.split(".")[0]
        where = f"{module} (line {found.line}) imports {found.module}"
        if top == "livegen":
            target = stage_of(found.module)
            if target is not None and target not in allowed:
                problems.append(f"{where}: livegen.{here} may not import livegen.{target}")
            elif (here, target) in ONLY_LAZILY and not found.lazy:
                problems.append(f"{where}: only inside a function, so that importing livegen.{here} does not load it")
        elif here != "export" and top not in sys.stdlib_module_names:
            if top in TRAINING_FRAMEWORKS:
                problems.append(f"{where}: only livegen.export may import the training frameworks")
            elif not provided_by(top, RUNTIME) and not (found.lazy and provided_by(top, EXTRAS)):
                problems.append(f"{where}: not a runtime dependency in pyproject.toml (an extra only lazily)")
    return problems


def test_every_subpackage_keeps_its_import_directions():
    files = source_files()
    problems = []
    for module, path in files.items():
        stage = stage_of(module)
        assert stage is None or stage in STAGE_MAY_IMPORT, f"{module}: a new stage; give it a row in STAGE_MAY_IMPORT"
        problems += violations(module, imports_of(module, path.read_text(), path.name == "__init__.py", set(files)))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("module", "source", "complaint"), [
    ("livegen.realtime.clock", "from livegen.offline import generate", "realtime may not import livegen.offline"),
    ("livegen.realtime.clock", "from ..offline.generate import compose_tunes", "may not import livegen.offline"),
    ("livegen.model.engine", "def f():\n    import tensorflow", "only livegen.export may import the training"),
    ("livegen.cli.main", "import livegen.export.train", "only inside a function"),
    ("livegen.testing.jack_harness", "import pytest", "not a runtime dependency"),
    ("livegen.perform.render", "import matplotlib", "not a runtime dependency"),
])
def test_a_wrong_import_is_reported(module, source, complaint):
    """The checker itself: each of these breaks a rule and must be named."""
    found = imports_of(module, source, False, set(source_files()))
    assert any(complaint in problem for problem in violations(module, found))


def loaded_after(script: str) -> dict:
    """Run script in a fresh interpreter; the livegen modules, training frameworks and pytest it loaded."""
    report = textwrap.dedent("""
        import json, sys
        print(json.dumps({
            "frameworks": sorted(m for m in sys.modules if m.split('.')[0] in %r),
            "pytest": sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')),
            "livegen": sorted(m for m in sys.modules if m.startswith('livegen')),
        }))
    """) % (sorted(TRAINING_FRAMEWORKS),)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script) + report], capture_output=True, text=True,
                            timeout=120, cwd=ROOT,
                            env={**os.environ, "JACK_NO_START_SERVER": "1",
                                 "JACK_DEFAULT_SERVER": "livegen-test-no-such-server"})
    assert result.returncode == 0, result.stderr
    return {**json.loads(result.stdout.splitlines()[-1]), "stderr": result.stderr}


def test_importing_every_livegen_module_loads_no_training_framework_and_no_pytest():
    runtime_modules = sorted(module for module in source_files() if stage_of(module) not in ("export", "__main__"))
    loaded = loaded_after(f"""
        import importlib
        for module in {runtime_modules!r}:
            importlib.import_module(module)
    """)
    assert loaded["frameworks"] == [] and loaded["pytest"] == []
    assert set(runtime_modules) <= set(loaded["livegen"])


def test_starting_livegen_run_loads_no_training_framework(tmp_path):
    """As far as opening its port (no JACK server by that name, so it stops there with one line)."""
    loaded = loaded_after(f"""
        from livegen.cli.main import main
        status = main(["run", "--backend", "jack", "--tunes", "1", "--osc-port", "0", "--record", {str(tmp_path)!r}])
        assert status == 2, status
    """)
    assert "no JACK server named 'livegen-test-no-such-server'" in loaded["stderr"]
    assert any(module.startswith("livegen.session.") for module in loaded["livegen"])
    assert loaded["frameworks"] == []
