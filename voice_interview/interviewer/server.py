"""The local llama.cpp server behind the embedded interviewer: start, warm, stop.

``LocalServer(...).start()`` returns at once; a thread of its own then

1. joins the embedded GGUF if this is the first run (``embedded.ensure_model``),
2. starts ``python -m llama_cpp.server`` on 127.0.0.1 and a free port, at a
   lower CPU priority (``nice`` +10) than audio capture and Whisper,
3. waits for ``/v1/models`` and one warm-up completion whose prompt starts with
   the interviewer's fixed instructions, so the server's prompt cache already
   holds them when the first real turn arrives (llama.cpp reuses the longest
   common token prefix of consecutive prompts),
4. then stays alive until ``stop()``.

No orphan server: the child asks the kernel for SIGKILL when its parent thread
goes (``prctl(PR_SET_PDEATHSIG)`` in ``preexec_fn``), so a ``kill -9`` of the app
takes the server with it; a normal exit stops it (``stop()``, ``atexit``). The
death signal follows the *thread* that forked the child, which is why the
server is started from, and owned by, one thread that lives as long as it does.

``wait_ready(timeout)`` tells callers whether it is serving; ``error`` holds the
one-line reason when it never will (model missing, llama-cpp-python missing,
the server died).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from voice_interview.errors import LLMError, VoiceInterviewError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
NICE = 10
START_LIMIT_S = 180.0
# The longest prompt a session makes (the answer cut at 400 words, three earlier
# probes) is ~1,250 tokens; 2048 leaves room for the reply and token-dense answers.
# The KV cache it costs is small: 56 MB (28 layers x 2 KV heads x 128 x f16).
N_CTX = 2048
NOT_INSTALLED = ("the embedded LLM's runtime (llama-cpp-python[server]) is not installed: "
                 "run scripts/setup.sh, or choose another LLM with --llm (or --llm none)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child_setup(parent: int) -> None:
    """Runs in the child between fork and exec: lower priority, die with the parent."""
    with contextlib.suppress(OSError):
        os.nice(NICE)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl: do not linger
        os._exit(1)


def server_command(model: Path, port: int, *, alias: str, chat_format: str, n_ctx: int,
                   threads: int, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--chat_format", chat_format,
        "--n_threads", str(threads), "--n_threads_batch", str(threads),
        "--interrupt_requests", "True",  # a new request (the turn's) stops a stale one
        # Read the weights into memory rather than mapping them: llama.cpp repacks
        # Q4_K for AVX2 into its own buffer, and a mapped file stays resident beside
        # it (measured: 2.44 GB RSS mapped, 1.85 GB read). n_batch 64: the compute
        # buffers follow it (RSS after a 775-token prompt: 2048 MB at 256, 1895 at
        # 128, 1820 at 64) while reading is as fast (54-56 tokens/s for all three);
        # the prefill sends the answer a segment at a time anyway.
        "--use_mmap", "False", "--n_batch", "64",
        # logits_all: the server's default (True) keeps a float32 row of 151,936
        # logits for every token of the context, an n_ctx x n_vocab array (1.19 GiB
        # at 2048) that fills as prompts grow, and runs the output layer for every
        # prompt token. Only logprobs need it. Measured after prompts of up to
        # 1,125 tokens: RSS 2005 -> 1277 MB, reading 53 -> 64 tokens/s, writing
        # the same (10 tokens/s), the same replies. use_mlock: its default (True)
        # pinned the 463 MB of weights that are not repacked; nothing needs that.
        "--logits_all", "False", "--use_mlock", "False",
        "--verbose", "False", *extra,
    ]


class LocalServer:
    """A llama.cpp OpenAI-compatible server owned by this process."""

    def __init__(self, model: Callable[[], Path] | Path | None = None, *,
                 alias: str | None = None, chat_format: str | None = None,
                 n_ctx: int = N_CTX, threads: int | None = None,
                 warm_messages: list[dict[str, str]] | None = None,
                 progress: Callable[[str], None] | None = None,
                 log_path: Path | None = None, start_limit_s: float = START_LIMIT_S,
                 extra_args: tuple[str, ...] = ()) -> None:
        from voice_interview.interviewer import embedded

        self._model = model if model is not None else embedded.ensure_model
        self.alias = alias or embedded.MODEL_NAME
        self.chat_format = chat_format or embedded.CHAT_FORMAT
        self.n_ctx = n_ctx
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.warm_messages = warm_messages
        self.progress = progress or (lambda _msg: None)
        self.log_path = log_path
        self.start_limit_s = start_limit_s
        self.extra_args = tuple(extra_args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.error: VoiceInterviewError | None = None
        self.proc: subprocess.Popen | None = None
        self.timings: dict[str, float] = {}
        self._ready = threading.Event()
        self._done = threading.Event()  # ready or failed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public ----------------------------------------------------------------------

    def start(self) -> LocalServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._own, name="llm-server", daemon=True)
            self._thread.start()
            atexit.register(self.stop)
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        self._done.wait(timeout)
        return self._ready.is_set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._kill()  # whatever the owner thread managed

    # -- the owner thread --------------------------------------------------------------

    def _own(self) -> None:
        try:
            self._start()
        except VoiceInterviewError as exc:
            self.error = exc
        except Exception as exc:  # never a traceback from a background thread
            self.error = LLMError(f"the embedded LLM failed to start: {type(exc).__name__}: "
                                  f"{exc}")
        finally:
            self._done.set()
        if self.error is not None:
            log.warning("embedded LLM: %s", self.error)
            self._kill()
            return
        # Alive until stop(): the child's death signal is tied to this thread.
        while not self._stop.wait(0.5):
            if self.proc is not None and self.proc.poll() is not None:
                self.error = LLMError(f"the embedded LLM server stopped (exit code "
                                      f"{self.proc.returncode})")
                self._ready.clear()
                return
        self._kill()

    def _start(self) -> None:
        t0 = time.monotonic()
        model = self._model() if callable(self._model) else self._model
        self.timings["model_s"] = time.monotonic() - t0
        if self._stop.is_set():
            return
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMError(NOT_INSTALLED)
        cmd = server_command(Path(model), self.port, alias=self.alias,
                             chat_format=self.chat_format, n_ctx=self.n_ctx,
                             threads=self.threads, extra=self.extra_args)
        out: IO[bytes] | int = (open(self.log_path, "ab") if self.log_path  # noqa: SIM115
                                else subprocess.DEVNULL)
        parent = os.getpid()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=env,
                                         preexec_fn=lambda: _child_setup(parent))
        finally:
            if not isinstance(out, int):
                out.close()
        self._wait_health(t0, self.proc)
        self.timings["health_s"] = time.monotonic() - t0
        self._warm_up()
        self.timings["warm_s"] = time.monotonic() - t0
        self._ready.set()

    def _wait_health(self, t0: float, proc: subprocess.Popen) -> None:
        end = t0 + self.start_limit_s
        while time.monotonic() < end and not self._stop.is_set():
            if proc.poll() is not None:
                raise LLMError(f"the embedded LLM server exited at start (code "
                               f"{proc.returncode}){self._log_hint()}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                self._stop.wait(0.2)
        if not self._stop.is_set():
            raise LLMError(f"the embedded LLM server did not answer within "
                           f"{self.start_limit_s:.0f} s{self._log_hint()}")

    def _warm_up(self) -> None:
        """One short completion: loads the weights into memory and caches the fixed
        instructions; a server that cannot generate (built for another CPU) fails here."""
        if self._stop.is_set():
            return
        messages = self.warm_messages or [{"role": "user", "content": "Hi"}]
        body = json.dumps({"model": self.alias, "max_tokens": 1, "temperature": 0,
                           "messages": messages}).encode()
        request = urllib.request.Request(self.url + "/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.start_limit_s) as resp:
                resp.read()
        except OSError as exc:
            code = None
            if self.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(1)
                code = self.proc.returncode
            if code is not None:
                raise LLMError(f"the embedded LLM server died on its first completion (exit "
                               f"code {code}); built for another CPU? rerun scripts/setup.sh"
                               ) from None
            raise LLMError(f"the embedded LLM server failed its first completion: {exc}"
                           ) from None

    def _log_hint(self) -> str:
        return f" (see {self.log_path})" if self.log_path else ""

    def _kill(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(3)
