"""The core packages never import Textual, and quick commands never import llama_cpp or the
server's stack."""

import subprocess
import sys

CORE = ["tui.engine", "tui.engine.remote", "tui.models", "tui.modelfile", "tui.store", "tui.meters", "tui.server"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(out.split())


def test_core_packages_do_not_import_textual() -> None:
    import pkgutil
    import importlib

    names = []
    for package in CORE:
        module = importlib.import_module(package)
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(module.__path__)]
    modules = _modules_after("\n".join(f"import {name}" for name in names))
    assert len(names) > len(CORE), "the core packages should have modules to check"
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)


def test_help_and_list_do_not_import_llama_or_textual(tmp_path) -> None:
    code = (
        "import os, contextlib, io\n"
        f"os.environ['WHIRR_HOME'] = {str(tmp_path)!r}\n"
        "from tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list'])\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    )
    modules = _modules_after(code)
    assert "tui.commands.models" in modules
    assert not {"llama_cpp", "textual", "starlette", "uvicorn"} & modules


def test_the_app_and_its_engines_do_not_import_llama() -> None:
    modules = _modules_after("import tui.app\nimport tui.engine.manager\nimport tui.commands.ps")
    assert "tui.engine.runner.client" in modules
    assert "llama_cpp" not in modules
