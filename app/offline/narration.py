"""Spoken narration of a lesson for the full tier: a recording in the content when there is one, else espeak-ng's
Latin American Spanish voice encoded as Opus mono ~16 kbit/s (about 120 KB a minute)."""

import hashlib
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol

VOICE = "es-419"
_BLOCKS = {"p", "h2", "h3", "h4", "li", "tr", "blockquote", "pre", "br", "hr", "table"}


class Synthesiser(Protocol):
    @property
    def voice(self) -> str:
        """Part of the cache key: another voice is another narration of the same text."""
        ...

    def synthesise(self, text: str) -> bytes:
        """Ogg Opus bytes of ``text`` spoken."""
        ...


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def lesson_text(title: str, html: str) -> str:
    """What is read aloud: the title, then each block of the lesson on a line of its own (a pause)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join([title.strip() + ".", *(line for line in lines if line)])


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class EspeakOpus:
    """espeak-ng (Debian ``espeak-ng``) to WAV, then ``opusenc`` (Debian ``opus-tools``) or ffmpeg to Opus."""

    def __init__(self, espeak: str, encoder: str, voice: str = VOICE) -> None:
        self._espeak, self._encoder, self._voice = espeak, encoder, voice

    @property
    def voice(self) -> str:
        return self._voice

    def synthesise(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="caminos-voz-") as folder:
            source, wav, opus = Path(folder, "texto.txt"), Path(folder, "voz.wav"), Path(folder, "voz.opus")
            source.write_text(text, encoding="utf-8")
            # -s 145 words a minute: a little slower than espeak's default, for listeners reading along
            self._run([self._espeak, "-v", self._voice, "-s", "145", "-b", "1", "-f", str(source), "-w", str(wav)])
            if Path(self._encoder).name.startswith("ffmpeg"):
                self._run([self._encoder, "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", "-c:a", "libopus",
                           "-b:a", "16k", "-application", "voip", "-map_metadata", "-1", str(opus)])
            else:
                self._run([self._encoder, "--quiet", "--bitrate", "16", "--downmix-mono", "--framesize", "60",
                           "--discard-comments", str(wav), str(opus)])
            return opus.read_bytes()

    @staticmethod
    def _run(command: list[str]) -> None:
        subprocess.run(command, check=True, capture_output=True, timeout=300)


def find_synthesiser() -> EspeakOpus | None:
    """The system's synthesiser, or None (then the full tier is built without narration, and says so)."""
    espeak = shutil.which("espeak-ng")
    encoder = shutil.which("opusenc") or shutil.which("ffmpeg")
    if espeak is None or encoder is None:
        return None
    voices = subprocess.run([espeak, "--voices=es"], capture_output=True, text=True, timeout=30, check=False)
    if f" {VOICE} " not in voices.stdout:
        return None
    return EspeakOpus(espeak, encoder)


MISSING_SYNTHESISER = ("sin narración: no se encontró espeak-ng (voz es-419) con opusenc o ffmpeg "
                       "(apt-get install espeak-ng opus-tools)")
