"""A private PulseAudio daemon for tests: a speaker and (optionally) a microphone.

The real PortAudio path works without sound hardware: PortAudio's ALSA backend
goes through the ``pulse`` ALSA plugin to this daemon, which has

- a null sink ``speaker`` (the default output); its ``speaker.monitor`` source
  captures whatever a program plays (``record_speaker()``), and
- with ``with_mic=True``, a pipe source ``mic`` (the default input) fed from a
  FIFO: ``write_mic(samples)`` sends 16 kHz mono float32 audio into it.

The daemon runs as our own child process (not ``-D``) in a private
``XDG_RUNTIME_DIR`` under the given tmp dir, and ``stop()`` ends it by pid.
``env`` holds the variables a process needs to see this daemon (plus
``autospawn = no`` so no other daemon is started by accident). PortAudio lists
devices once, when it initializes (at ``import sounddevice``): a process that
should see these devices must have ``env`` before that — run it as a subprocess
with ``env=pulse.subprocess_env()``, or call ``sd._terminate(); sd._initialize()``
after updating ``os.environ``.

    with PulseAudio(tmp_path, with_mic=True) as pa:
        rec = pa.record_speaker()
        subprocess.run([...], env=pa.subprocess_env())
        heard = rec.stop()           # float32, 16 kHz

Fixtures ``pulse`` (speaker + mic) and ``pulse_speaker`` (speaker only) are
defined here; import them into a test module or conftest.py to use them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

MIC_RATE = 16000


def pulseaudio_available() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


def _to_s16le(samples: np.ndarray) -> bytes:
    pcm = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return (pcm * 32767.0).round().astype("<i2").tobytes()


class SpeakerRecording:
    """``parec`` capturing the null sink's monitor into a raw file until ``stop()``."""

    def __init__(self, pa: PulseAudio, path: Path, rate: int) -> None:
        self.path = path
        self.rate = rate
        self._fh = open(path, "wb")  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            [
                "parec",
                f"--device={pa.sink}.monitor",
                "--format=s16le",
                f"--rate={rate}",
                "--channels=1",
                "--raw",
                "--latency-msec=20",
            ],
            stdout=self._fh,
            stderr=subprocess.PIPE,
            env=pa.subprocess_env(),
        )

    def stop(self) -> np.ndarray:
        """Stop recording; return what the speaker played as float32 at ``rate``."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._fh.close()
        raw = self.path.read_bytes()
        raw = raw[: len(raw) - len(raw) % 2]
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


class PulseAudio:
    """A private PulseAudio daemon with a null sink and an optional FIFO microphone."""

    def __init__(
        self,
        tmpdir: str | Path,
        with_mic: bool = True,
        sink: str = "speaker",
        source: str = "mic",
        mic_rate: int = MIC_RATE,
    ) -> None:
        self.dir = Path(tmpdir) / "pulse-runtime"
        self._own_dir = False
        if len(str(self.dir / "pulse" / "native")) > 100:  # unix socket paths max ~107 bytes
            self.dir = Path(tempfile.mkdtemp(prefix="vi-pulse-"))
            self._own_dir = True
        self.with_mic = with_mic
        self.sink = sink
        self.source = source
        self.mic_rate = mic_rate
        self.fifo: Path | None = self.dir / "mic.fifo" if with_mic else None
        self.proc: subprocess.Popen | None = None
        self._mic_fh = None
        self._mic_lock = threading.Lock()
        socket = self.dir / "pulse" / "native"
        client_conf = self.dir / "client.conf"
        self.env: dict[str, str] = {
            "XDG_RUNTIME_DIR": str(self.dir),
            "PULSE_SERVER": f"unix:{socket}",
            "PULSE_CLIENTCONFIG": str(client_conf),
            "PULSE_COOKIE": str(self.dir / "cookie"),
        }
        self._socket = socket
        self._client_conf = client_conf

    # -- life cycle -------------------------------------------------------

    def start(self, timeout_s: float = 15.0) -> PulseAudio:
        if self.proc is not None:
            return self
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        self._client_conf.write_text("autospawn = no\n")
        if self.fifo is not None and self.fifo.exists():
            self.fifo.unlink()  # module-pipe-source creates the FIFO itself
        args = [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "-n",  # no default.pa: only the modules below
            "--use-pid-file=no",
            "--disallow-exit",
            "--log-target=file:" + str(self.dir / "pulseaudio.log"),
            "--load=module-native-protocol-unix auth-anonymous=1",
            f"--load=module-null-sink sink_name={self.sink}",
        ]
        if self.fifo is not None:
            args.append(
                f"--load=module-pipe-source source_name={self.source} file={self.fifo} "
                f"format=s16le rate={self.mic_rate} channels=1"
            )
        env = {**os.environ, **self.env, "HOME": str(self.dir)}
        self.proc = subprocess.Popen(
            args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log()
                self.proc = None
                raise RuntimeError(f"pulseaudio exited at start-up:\n{log}")
            if self._socket.exists() and self._pactl_ok():
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"pulseaudio did not come up in {timeout_s} s:\n{self.log()}")
        self.pactl("set-default-sink", self.sink)
        if self.fifo is not None:
            self.pactl("set-default-source", self.source)
        return self

    def stop(self) -> None:
        """End the daemon we started (by pid) and close the microphone pipe."""
        with self._mic_lock:
            if self._mic_fh is not None:
                with contextlib.suppress(OSError):
                    self._mic_fh.close()
                self._mic_fh = None
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PulseAudio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A full environment for a child process that should use this daemon."""
        return {**(os.environ if base is None else base), **self.env}

    def log(self) -> str:
        path = self.dir / "pulseaudio.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _pactl_ok(self) -> bool:
        res = subprocess.run(
            ["pactl", "info"], env=self.subprocess_env(), capture_output=True, timeout=5
        )
        return res.returncode == 0

    def pactl(self, *args: str) -> str:
        res = subprocess.run(
            ["pactl", *args], env=self.subprocess_env(), capture_output=True, text=True,
            timeout=10,
        )
        if res.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def write_mic(self, samples: np.ndarray, realtime: bool = False, block: int = 512) -> None:
        """Send mono float32 samples at ``mic_rate`` (16 kHz) into the microphone FIFO.

        With ``realtime=True`` the blocks are paced at the audio rate (as a real
        microphone delivers them); otherwise they are written as fast as the pipe
        takes them. Blocks while the pipe is full.
        """
        if self.fifo is None:
            raise RuntimeError("this PulseAudio was started without a microphone")
        data = _to_s16le(samples)
        with self._mic_lock:
            if self._mic_fh is None:
                # The daemon holds the read end open, so this does not block.
                self._mic_fh = open(self.fifo, "wb", buffering=0)  # noqa: SIM115
            fh = self._mic_fh
        step = block * 2
        t0 = time.monotonic()
        for i in range(0, len(data), step):
            fh.write(data[i : i + step])
            if realtime:
                ahead = t0 + (i + step) / 2 / self.mic_rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def record_speaker(self, path: str | Path | None = None, rate: int = 16000) -> SpeakerRecording:
        """Start capturing what is played on the speaker (its monitor source)."""
        path = Path(path) if path is not None else self.dir / f"speaker-{time.monotonic_ns()}.raw"
        rec = SpeakerRecording(self, path, rate)
        # parec takes ~2 s to deliver its first bytes on a fresh daemon: whatever
        # plays before then is missing from the recording (the first line's start).
        deadline = time.monotonic() + 10.0
        while path.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > 0, "parec recorded nothing from the speaker's monitor"
        return rec


@pytest.fixture
def pulse(tmp_path):
    """A private PulseAudio with the ``speaker`` null sink and the FIFO ``mic``."""
    if not pulseaudio_available():
        pytest.skip("pulseaudio is not installed (apt install pulseaudio pulseaudio-utils)")
    with PulseAudio(tmp_path, with_mic=True) as pa:
        yield pa


@pytest.fixture
def pulse_speaker(tmp_path):
    """A private PulseAudio with only the ``speaker`` null sink."""
    if not pulseaudio_available():
        pytest.skip("pulseaudio is not installed (apt install pulseaudio pulseaudio-utils)")
    with PulseAudio(tmp_path, with_mic=False) as pa:
        yield pa
