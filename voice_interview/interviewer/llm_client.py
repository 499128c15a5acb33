"""litellm, loaded once in the background and checked against the configured model.

litellm is imported lazily, in a worker thread, with
``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first so nothing touches the network at
import (the import takes seconds and ~180 MB). ``preload()`` starts it early;
``wait()`` returns the module; ``check()`` turns a misconfigured model (litellm
missing, unknown provider, missing key) into one :class:`LLMError` line.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import warnings
from typing import Any
from urllib.parse import urlparse

from voice_interview.errors import LLMError
from voice_interview.interviewer.llm_failures import SECRET_ENV, one_line

NOT_INSTALLED = "LLM support (litellm) is not installed: run scripts/setup.sh"


class LiteLLM:
    """The litellm module for one model string and ``api_base``."""

    def __init__(self, model: str, api_base: str | None) -> None:
        self.model = model
        self.api_base = api_base
        self._lock = threading.Lock()
        self.loaded = threading.Event()
        self._loader: threading.Thread | None = None
        self._litellm: Any = None
        self._load_error: LLMError | None = None
        self._config_error: LLMError | None = None
        self._checked = False

    def preload(self) -> None:
        """Start importing litellm in the background (it takes seconds)."""
        with self._lock:
            if self._loader is None:
                self._loader = threading.Thread(target=self._import, name="litellm-import",
                                                daemon=True)
                self._loader.start()

    def _import(self) -> None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        # litellm's lazy provider modules warn through pydantic on first use; on a
        # terminal UI those lines would garble the screen. Narrow, once, by module.
        for module in (r"pydantic\._internal\.", r"litellm(\.|$)"):
            warnings.filterwarnings("ignore", module=module)
        try:
            import litellm
        except ImportError:
            self._load_error = LLMError(NOT_INSTALLED)
        except Exception as exc:  # a broken install: say so in one line
            self._load_error = LLMError(f"LLM support failed to load: {one_line(exc)}")
        else:
            litellm.telemetry = False
            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            litellm.drop_params = True  # a provider that lacks "stop" still answers
            _warm_up(litellm)
            self._litellm = litellm
        finally:
            self.loaded.set()

    def wait(self, timeout: float | None) -> Any:
        self.preload()
        if not self.loaded.wait(timeout):
            raise TimeoutError("litellm still loading")
        if self._load_error is not None:
            raise self._load_error
        return self._litellm

    def is_local(self) -> bool:
        host = urlparse(self.api_base or "").hostname or ""
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")

    def check(self) -> None:
        """Raise a one-line :class:`LLMError` if the model cannot be used as configured."""
        litellm = self.wait(None)
        with self._lock:
            if not self._checked:
                self._config_error = self._diagnose(litellm)
                self._checked = True
        if self._config_error is not None:
            raise self._config_error

    def _diagnose(self, litellm: Any) -> LLMError | None:
        try:
            _, provider, _, _ = litellm.get_llm_provider(model=self.model,
                                                         api_base=self.api_base)
        except Exception:
            return LLMError(
                f"unknown LLM provider in '{self.model}': write provider/model, "
                "e.g. ollama/llama3.2 or openai/gpt-4o-mini"
            )
        if provider == "openai" and self.is_local():
            return None
        try:
            env = litellm.validate_environment(model=self.model, api_base=self.api_base)
        except Exception:
            return None  # cannot tell; the call itself will say
        # Only secrets count: a missing *_API_BASE has a default (ollama: localhost:11434).
        missing = [k for k in env.get("missing_keys", []) if k and SECRET_ENV.search(k)]
        if missing and not env.get("keys_in_environment", True):
            return LLMError(
                f"the LLM '{self.model}' needs {' or '.join(missing)} set in the environment"
            )
        return None


def _warm_up(litellm: Any) -> None:
    """Load what litellm and the OpenAI client import on their first call (~1 s).

    A mocked completion walks litellm's own call path without any I/O; the OpenAI
    client's resources and HTTP stack load lazily on the first real request.
    """
    for name in ("openai.resources", "httpcore", "h11"):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        for _ in litellm.completion(model="openai/warm-up", messages=[{"role": "user",
                                    "content": "hi"}], stream=True, mock_response="Hi?"):
            pass
