"""The core stays UI-free: the CLI, exporters and TUI share it without pulling in Textual."""

import pkgutil
import subprocess
import sys

import itsm_tui.core
import itsm_tui.importers
import itsm_tui.reports


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_core_and_reports_never_import_textual():
    modules = (_modules(itsm_tui.core) + _modules(itsm_tui.reports) + _modules(itsm_tui.importers)
               + ["itsm_tui.cli"])
    assert "itsm_tui.core.tickets" in modules  # the walk really found the core
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"textual imported by the core: {result.stdout}"
