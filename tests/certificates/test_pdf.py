"""The certificate PDF itself, rendered by real WeasyPrint: its text, its QR code, PDF/A-3u, embedded fonts, one
page even for long names. A rendered page is kept as tests/artifacts/certificado-*.png to look at."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from app.certificates import codes
from app.certificates.render import PROGRAMME, CertificateContent, ModuleLine, render_pdf, verify_url

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
MODULES = (
    ModuleLine("saberes", "Saberes y oficios: el valor de lo que sabemos hacer", 60),
    ModuleLine("emprendimiento", "Mi emprendimiento cultural: modelo de negocio", 63),
    ModuleLine("precio", "Costos, precio justo y cuentas claras", 66),
    ModuleLine("asociativa", "Gestión asociativa: asociaciones, cooperativas y redes de mujeres", 63),
    ModuleLine("vender", "Vender y circular: ferias, mercados y canales digitales", 63),
    ModuleLine("derechos", "Derechos culturales y propiedad intelectual colectiva", 66),
)
NAMES = [
    "Ch'aska Ñaupari Müller",
    "María de los Ángeles Huamán Quispe de la Cruz",
    # longer than anyone's so far: still one line on one page
    "Xóchitl Guadalupe Hernández Tzompaxtle de la Santísima Trinidad Ñuñez-Güemes",
]


def content(name: str, country: str = "PE") -> CertificateContent:
    code = codes.new_code()
    return CertificateContent(
        code=code, holder_name=name, country=country, modules=MODULES,
        completed_at=datetime(2026, 11, 20, 15, tzinfo=UTC), issued_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
        verify_url=verify_url("https://caminos.alianzapacifico.net", code),
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[CertificateContent, bytes]]:
    out = {}
    for name in NAMES:
        c = content(name)
        out[name] = (c, render_pdf(c))
    return out


def page_image(pdf: bytes, scale: float) -> "pypdfium2.PdfBitmap":
    document = pypdfium2.PdfDocument(pdf)
    return document[0].render(scale=scale)


@pytest.mark.parametrize("name", NAMES)
def test_text_holds_name_programme_code_and_dates(rendered: dict[str, tuple[CertificateContent, bytes]],
                                                  name: str) -> None:
    c, pdf = rendered[name]
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert name in text
    assert " ".join(PROGRAMME.split()) in text
    assert codes.formatted(c.code) in text
    assert "Perú" in text
    assert "20 de noviembre de 2026" in text
    assert "1 de diciembre de 2026" in text
    assert "Gestión asociativa" in text
    assert "6 h 21 min" in text
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert width > height  # landscape
    assert abs(width - 841.89) < 1
    assert abs(height - 595.28) < 1


@pytest.mark.parametrize("name", NAMES)
def test_qr_code_reads_as_the_verification_url(rendered: dict[str, tuple[CertificateContent, bytes]],
                                               name: str) -> None:
    c, pdf = rendered[name]
    image = page_image(pdf, 2.0).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode] == [c.verify_url]
    assert re.fullmatch(r"https://caminos\.alianzapacifico\.net/verificar/(?:[0-9A-Z]{4}-){4}[0-9A-Z]{4}",
                        c.verify_url)


@pytest.mark.parametrize("name", NAMES)
def test_pdf_a_3u_with_embedded_fonts_and_an_output_intent(rendered: dict[str, tuple[CertificateContent, bytes]],
                                                           name: str) -> None:
    _, pdf = rendered[name]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert document.open_metadata().pdfa_status == "3U"
        intents = document.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        fonts = document.pages[0].Resources.Font
        assert len(fonts) >= 2
        for key in fonts.keys():
            font = fonts[key]
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), key
            # the @font-face families of certificate.css (the shipped files), never a system fallback
            assert "+Caminos-" in str(descriptor.FontName), descriptor.FontName


def test_a_rendered_page_is_kept_to_look_at(rendered: dict[str, tuple[CertificateContent, bytes]]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for index, name in enumerate(NAMES, start=1):
        target = ARTIFACTS / f"certificado-{index}.png"
        page_image(rendered[name][1], 1.5).to_pil().save(target)
        assert target.stat().st_size > 10_000


def test_codes_have_100_random_bits_and_read_forgivingly() -> None:
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert all(len(c) == 20 and set(c) <= set(codes.ALPHABET) for c in made)
    code = "0123456789ABCDEFGH1J"
    shown = codes.formatted(code)
    assert shown == "0123-4567-89AB-CDEF-GH1J"
    for typed in (shown, code, shown.lower(), code.lower(), " 0123 4567 89ab cdef gh1j ",
                  "O123-4567-89AB-CDEF-GHIJ", "o123-4567-89ab-cdef-ghlj"):
        assert codes.normalise(typed) == code, typed
    for bad in ("", "0123", code + "0", "0123-4567-89AB-CDEF-GHUJ", "ÁÉÍÓ-4567-89AB-CDEF-GH1J", "x" * 1000):
        assert codes.normalise(bad) is None, bad
