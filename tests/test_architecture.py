"""Which part of whirr imports which: the import-linter contracts in pyproject.toml hold, and
the quick commands never import llama_cpp, Textual or the server's stack."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(out.split())


def test_the_import_contracts_hold() -> None:
    """UI layers, only the UI imports the UI and Textual, the core never imports commands, and
    no cycles (pyproject.toml's [tool.importlinter])."""
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " kept, 0 broken." in result.stdout


def test_help_and_list_do_not_import_llama_textual_or_the_server(tmp_path) -> None:
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
    """Local models answer from runner processes: the app's own process never loads llama.cpp."""
    modules = _modules_after("import tui.app\nimport tui.engine.manager\nimport tui.commands.ps")
    assert "tui.engine.runner.client" in modules
    assert "llama_cpp" not in modules
