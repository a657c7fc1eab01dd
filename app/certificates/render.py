"""The certificate as a PDF/A-3u: Jinja2 template and CSS from the top-level ``certificates/`` folder, WeasyPrint.

WeasyPrint is imported on first use and its FontConfiguration and parsed CSS are kept per process: the API's
threads and each worker of the batch pool pay for them once. CPU-heavy: call it from a ``def`` route, a worker
thread or a worker process, never from an ``async def``.
"""

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app._resources import certificates_dir
from app.certificates.codes import formatted
from app.enrolment.geography import COUNTRY_NAMES

TEMPLATES = certificates_dir()
PROGRAMME = ("Caminos de Saberes: Formación y Autonomía para Mujeres en ruralidad y étnicamente diversas de los "
             "países de la Alianza del Pacífico, con énfasis en los oficios tradicionales y prácticas ancestrales")
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")
# dates are printed as the woman lived them, in her country's time (an evening in Lima is the next day in UTC)
TIMEZONES = {"PE": "America/Lima", "CL": "America/Santiago", "CO": "America/Bogota", "MX": "America/Mexico_City"}


@dataclass(frozen=True)
class ModuleLine:
    slug: str
    title: str
    minutes: int


@dataclass(frozen=True)
class CertificateContent:
    """Everything printed; picklable, so that a worker process can render it."""

    code: str  # normalised
    holder_name: str
    country: str
    modules: tuple[ModuleLine, ...]
    completed_at: datetime
    issued_at: datetime
    verify_url: str

    @property
    def total_minutes(self) -> int:
        return sum(m.minutes for m in self.modules)


def verify_url(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/verificar/{formatted(code)}"


def hours(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if not h:
        return f"{m} min"
    return f"{h} h {m:02d} min" if m else f"{h} h"


def spanish_date(moment: datetime, country: str) -> str:
    local = moment.astimezone(ZoneInfo(TIMEZONES.get(country, "UTC")))
    return f"{local.day} de {MONTHS[local.month - 1]} de {local.year}"


def name_size(name: str) -> float:
    """Points for the name, shrinking with its length so that a long compound name stays on one line within the
    frame (about 250 mm wide: DejaVu Serif Bold averages ~0.62 em per character)."""
    return max(14.0, min(34.0, round(250 / 0.3528 / (0.62 * max(len(name), 1)), 1)))


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined)
    env.filters["hours"] = hours
    return env


def qr_data_uri(url: str) -> str:
    # error correction M survives a crease or a smudge on paper; segno makes the SVG, no image library needed
    return str(segno.make(url, error="m", micro=False).svg_data_uri(border=2, dark="#23302b"))


def certificate_html(content: CertificateContent) -> str:
    values: dict[str, Any] = {
        "code": formatted(content.code), "holder_name": content.holder_name,
        "name_size": name_size(content.holder_name),
        "country_name": COUNTRY_NAMES.get(content.country, content.country),
        "programme": PROGRAMME, "modules": content.modules, "total_minutes": content.total_minutes,
        "completed_on": spanish_date(content.completed_at, content.country),
        "issued_on": spanish_date(content.issued_at, content.country),
        "verify_url": content.verify_url, "qr_data_uri": qr_data_uri(content.verify_url),
    }
    return _environment().get_template("certificate.html.j2").render(values)


class _Renderer:
    """WeasyPrint's font configuration and the parsed stylesheet, made once per process."""

    _lock = threading.Lock()
    _state: tuple[Any, Any] | None = None

    @classmethod
    def state(cls) -> tuple[Any, Any]:
        with cls._lock:
            if cls._state is None:
                from weasyprint import CSS
                from weasyprint.text.fonts import FontConfiguration

                fonts = FontConfiguration()
                css = CSS(filename=str(TEMPLATES / "certificate.css"), font_config=fonts)
                cls._state = (fonts, css)
            return cls._state


def warm_up() -> None:
    """Initialiser of a worker process: import WeasyPrint and parse fonts and CSS before the first job. Then what
    is loaded is frozen out of the collector's sight, and young objects are collected less often (a page makes
    and drops objects by the hundred thousand): about 5 % less CPU a page (87–92 → 82–86 ms, measured)."""
    _Renderer.state()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def write_pdf(content: CertificateContent) -> bytes:
    """WeasyPrint as it is: the template, the shared fonts and CSS, PDF/A-3u."""
    from weasyprint import HTML

    fonts, css = _Renderer.state()
    document = HTML(string=certificate_html(content), base_url=str(TEMPLATES) + "/")
    pdf: bytes = document.write_pdf(stylesheets=[css], font_config=fonts, pdf_variant="pdf/a-3u",
                                     uncompressed_pdf=False, pdf_identifier=content.code.encode())
    return pdf


def _on_a_stack_chunk_of_its_own(render: Callable[[CertificateContent], bytes], content: CertificateContent) -> bytes:
    return render(content)


# CPython (3.11 and 3.12; 3.13 until python/cpython#142183 was fixed) keeps Python frames in 16 KiB chunks and
# frees a chunk as soon as the frame at its base returns. A page's layout recursion (~2,800 slots deep, more than
# a chunk) crosses a chunk boundary wherever its caller happens to stand, and a loop called just past one maps
# and unmaps a chunk on every pass: up to ~2,000 page faults and ~15 % more CPU a page, depending only on how deep
# the caller is (`make bench` → certificates → stack_chunks). A frame larger than what a chunk has left always
# starts a new chunk, sized for it with 1,000 slots to spare and rounded up to a power of two: 64 KiB for this
# one, so the whole render runs in the ~5,000 slots after it.
_on_a_stack_chunk_of_its_own.__code__ = _on_a_stack_chunk_of_its_own.__code__.replace(co_stacksize=3100)


def render_pdf(content: CertificateContent) -> bytes:
    """The certificate's PDF, rendered clear of the interpreter's stack-chunk boundaries (see above)."""
    return _on_a_stack_chunk_of_its_own(write_pdf, content)
