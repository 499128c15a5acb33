"""Ship the project's data folders inside the wheel.

prompts/ and rubrics/ live at the top of the repository (the documented layout,
edited as data, not code). A checkout reads them from there; a built wheel
carries copies in ``voice_interview/_data/`` so ``pip install .`` and ``pipx
install`` give a program that finds its question banks. setuptools cannot map
a folder outside the package into it from pyproject.toml alone, hence this
small build_py step (everything else is configured in pyproject.toml).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("prompts", "rubrics")


class build_py_with_data(build_py):  # noqa: N801 - setuptools command naming
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "voice_interview" / "_data"
        for name in DATA_FOLDERS:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(root / name, dest, ignore=shutil.ignore_patterns("*~", ".*"))


setup(cmdclass={"build_py": build_py_with_data})
