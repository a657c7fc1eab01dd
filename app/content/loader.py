"""Reads ``modules_content/`` and validates all of it before anything is loaded.

Every problem is collected (not only the first) and reported as a :class:`ContentProblem` that names the file
(relative to the content root), the line and, in Spanish, what the content author has to change. Lessons are
Markdown turned into sanitised HTML whose images point at ``/api/v1/blobs/<sha256>``.

Layout of one module::

    NN-<slug>/module.yaml
    NN-<slug>/NN-<lesson>.md           lesson: YAML front matter between two "---" lines, then Markdown
    NN-<slug>/NN-<lesson>.quiz.yaml    optional quiz of the lesson with the same name
    NN-<slug>/media/*.svg|png|jpg|jpeg|webp

Everything is a real file: a symbolic link anywhere in a module (or a linked module folder) is reported.
"""

import difflib
import hashlib
import os
import re
import xml.parsers.expat
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import nh3
import yaml
from markdown_it import MarkdownIt

from app.content.spec import (
    ContentInvalid,
    ContentProblem,
    LessonSpec,
    MediaSpec,
    ModuleSpec,
    OptionSpec,
    QuestionKind,
    QuestionSpec,
    QuizSpec,
)

BLOB_PREFIX = "/api/v1/blobs/"
MAX_MEDIA_BYTES = 1024 * 1024
MEDIA_TYPES = {
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
    # a recorded narration of a lesson, media/<lesson>.opus|.ogg: the offline "full" tier uses it instead of a
    # synthesised voice
    ".opus": "audio/ogg", ".ogg": "audio/ogg",
}
AUDIO_EXTENSIONS = frozenset({".opus", ".ogg"})
MAX_AUDIO_BYTES = 3 * 1024 * 1024
ALLOWED_TAGS = frozenset({
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "blockquote", "code", "pre",
    "table", "thead", "tbody", "tr", "th", "td", "img", "a", "br", "hr",
})
ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "title"}, "a": {"href", "title"}}
# Removed together with their content (other tags outside ALLOWED_TAGS are dropped, their text kept).
_DROPPED_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object"}

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_MODULE_DIR = re.compile(rf"(\d{{2}})-({_SLUG})")
_LESSON_FILE = re.compile(rf"(\d{{2}})-({_SLUG})\.md")
_QUIZ_FILE = re.compile(rf"(\d{{2}}-{_SLUG})\.quiz\.yaml")
_IDENTIFIER = re.compile(_SLUG)
_BLOB_SRC = re.compile(re.escape(BLOB_PREFIX) + r"[0-9a-f]{64}")
_SAFE_HREF = re.compile(r"(?:https?://[^\s/]|#)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:", re.IGNORECASE)
_SVG_NS = "http://www.w3.org/2000/svg"
_CSS_EXTERNAL = re.compile(r"url\(\s*['\"]?\s*(?!['\"#)])|@import", re.IGNORECASE)
_RASTER_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    ".png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    ".jpg": lambda data: data.startswith(b"\xff\xd8\xff"),
    ".jpeg": lambda data: data.startswith(b"\xff\xd8\xff"),
    ".webp": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
    ".opus": lambda data: data.startswith(b"OggS"),
    ".ogg": lambda data: data.startswith(b"OggS"),
}

MODULE_KEYS = {
    "slug": "el nombre corto del módulo", "title": "el título del módulo", "summary": "el resumen del módulo",
    "order": "el número de orden del módulo", "estimated_minutes": "los minutos estimados del módulo",
    "required": "si el módulo es obligatorio", "objectives": "la lista de objetivos del módulo",
}
LESSON_KEYS = {
    "title": "el título de la lección", "estimated_minutes": "los minutos estimados de la lección",
    "required": "si la lección es obligatoria",
}
QUIZ_KEYS = {"pass_mark": "la nota para aprobar, por ejemplo 0.7", "questions": "la lista de preguntas"}
QUESTION_KEYS = {
    "id": "el identificador de la pregunta, por ejemplo q1", "kind": "el tipo de pregunta",
    "prompt": "el texto de la pregunta", "options": "la lista de opciones",
}
OPTION_KEYS = {
    "id": "el identificador de la opción, por ejemplo a", "text": "el texto de la opción",
    "correct": "si la opción es correcta",
}
QUESTION_KINDS: tuple[QuestionKind, ...] = ("single", "multiple", "true_false")


# --- problems -------------------------------------------------------------------------------------------------


class _Report:
    def __init__(self) -> None:
        self.problems: list[ContentProblem] = []

    def add(self, file: str, line: int, message: str) -> None:
        self.problems.append(ContentProblem(file=file, line=max(1, line), message=message))


def _shown(value: Any) -> str:
    """A value as the author wrote it, short enough for a message."""
    text = "vacío" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- YAML that remembers line numbers ----------------------------------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping with the (file) line where it starts and the line of each of its keys."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class _Seq(list[Any]):
    """A YAML sequence with the (file) line where it starts and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds :class:`_Map` / :class:`_Seq` and notes keys written twice."""

    def __init__(self, text: str, first_line: int) -> None:
        super().__init__(text)
        self.first_line = first_line
        self.duplicate_keys: list[tuple[Any, int]] = []

    def line_of(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + self.first_line


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Map]:
    data = _Map(loader.line_of(node))
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark,
            )
        line = loader.line_of(key_node)
        if key in data:
            loader.duplicate_keys.append((key, line))
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = line


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq(loader.line_of(node))
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=False))
        data.item_lines.append(loader.line_of(child))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _yaml_hint(error: yaml.MarkedYAMLError) -> str:
    problem = (error.problem or "") + " " + (error.context or "")
    if "mapping values are not allowed" in problem:
        return "hay unos dos puntos (:) dentro de un texto; escriba ese texto entre comillas"
    if "\\t" in problem or "tab" in problem:
        return "hay un tabulador; use solo espacios al inicio de las líneas"
    if "quoted scalar" in problem:
        return "unas comillas se abrieron y no se cerraron"
    if "could not find expected ':'" in problem:
        return "falta el signo de dos puntos (:) después de una clave"
    return "revise la sangría (los espacios al inicio de la línea), los dos puntos y las comillas"


def _parse_yaml(text: str, file: str, report: _Report, first_line: int = 1) -> tuple[bool, Any]:
    """(True, data) or (False, None) after reporting the syntax error at its line."""
    loader = _LineLoader(text, first_line)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if exc.context_mark is not None and "quoted scalar" in (exc.context or ""):
            mark = exc.context_mark  # an unclosed quote: where it was opened, not the end of the file
        mark = mark or exc.context_mark
        line = first_line if mark is None else int(mark.line) + first_line
        detail = (exc.problem or exc.context or "").strip()
        report.add(file, line, f"El texto YAML no se puede leer: {_yaml_hint(exc)} (detalle técnico: {detail}).")
        return False, None
    except yaml.YAMLError as exc:
        report.add(file, first_line, f"El texto YAML no se puede leer: tiene caracteres no permitidos ({exc}).")
        return False, None
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        report.add(file, line, f"La clave «{key}» está escrita dos veces; déjela una sola vez.")
    return True, data


class _Fields:
    """Reads the keys of one YAML mapping and reports each problem in the author's terms."""

    def __init__(self, data: _Map, file: str, report: _Report, keys: dict[str, str]) -> None:
        self.data, self.file, self.report, self.keys = data, file, report, keys
        self.ok = True
        for key in data:
            if key not in keys:
                suggestion = difflib.get_close_matches(str(key), list(keys), n=1)
                hint = f" ¿Quiso escribir «{suggestion[0]}»?" if suggestion else ""
                self.problem(key, f"La clave «{key}» no se conoce.{hint} Las claves permitidas son: "
                                  f"{', '.join(keys)}.")

    def line(self, key: str) -> int:
        return self.data.key_lines.get(key, self.data.line)

    def problem(self, key: str, message: str) -> None:
        self.ok = False
        self.report.add(self.file, self.line(key), message)

    def _value(self, key: str) -> tuple[bool, Any]:
        if key not in self.data:
            self.problem(key, f"Falta la clave «{key}» ({self.keys[key]}).")
            return False, None
        return True, self.data[key]

    def text(self, key: str) -> str | None:
        found, value = self._value(key)
        if not found:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"«{key}» ({self.keys[key]}) debe ser un texto que no esté vacío; escríbalo entre "
                              f"comillas (se encontró «{_shown(value)}»).")
            return None
        return value.strip()

    def integer(self, key: str) -> int | None:
        found, value = self._value(key)
        if not found:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem(key, f"«{key}» ({self.keys[key]}) debe ser un número entero mayor o igual a 1, escrito "
                              f"con cifras, por ejemplo 15 (se encontró «{_shown(value)}»).")
            return None
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        if default is not None and key not in self.data:
            return default
        found, value = self._value(key)
        if not found:
            return None
        if not isinstance(value, bool):
            self.problem(key, f"«{key}» ({self.keys[key]}) debe ser true (sí) o false (no), sin comillas "
                              f"(se encontró «{_shown(value)}»).")
            return None
        return value

    def identifier(self, key: str) -> str | None:
        found, value = self._value(key)
        if not found:
            return None
        if isinstance(value, bool):  # `id: true` unquoted in YAML is the boolean true
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            self.problem(key, f"«{key}» ({self.keys[key]}) solo puede tener letras minúsculas sin tildes, números "
                              f"y guiones, por ejemplo q1 o pregunta-2 (se encontró «{_shown(value)}»).")
            return None
        return value

    def sequence(self, key: str) -> _Seq | None:
        found, value = self._value(key)
        if not found:
            return None
        if not isinstance(value, _Seq) or not value:
            self.problem(key, f"«{key}» ({self.keys[key]}) debe ser una lista con al menos un elemento; cada "
                              "elemento va en una línea que empieza con «- ».")
            return None
        return value


def _mapping(data: Any, file: str, line: int, report: _Report, what: str) -> _Map | None:
    if data is None:
        report.add(file, line, f"{what} está vacío.")
        return None
    if not isinstance(data, _Map):
        report.add(file, line, f"{what} debe estar escrito como una lista de claves y valores, una por línea, "
                               "por ejemplo «title: \"Mi título\"».")
        return None
    return data


# --- files ------------------------------------------------------------------------------------------------------


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


_LINK_MESSAGE = ("Es un enlace simbólico (un acceso directo) y el contenido no puede tener enlaces: copie aquí el "
                 "archivo o la carpeta real en lugar del enlace.")


def _report_links(folder: Path, root: Path, report: _Report) -> None:
    """Report every symbolic link in a module folder. A link could publish a file from outside the content
    folder, and the folder must stay whole when it is copied or zipped; so nothing is read through one (the
    readers below skip them) and, the problem being reported, nothing is loaded."""
    for current, folders, files in os.walk(folder):  # does not descend into linked folders
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in sorted(folders + files):
            path = Path(current) / name
            if not name.startswith(".") and path.is_symlink():
                report.add(_relative(path, root), 1, _LINK_MESSAGE)


def _read_text(path: Path, file: str, report: _Report) -> str | None:
    if path.is_symlink():
        return None  # reported by _report_links
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.add(file, line, "El archivo no está guardado como texto UTF-8 (hay letras que no se pueden leer); "
                               "guárdelo de nuevo con la codificación UTF-8.")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- media ------------------------------------------------------------------------------------------------------


def check_svg(data: bytes) -> list[tuple[int, str]]:
    """Problems of one SVG file as (line, message): it must be plain XML that draws and does nothing else — no
    DOCTYPE or entities, no scripts, no event handlers, no foreignObject, no links or styles that reach outside
    the file."""
    declaration = re.search(rb"<!\s*(?:DOCTYPE|ENTITY)", data, re.IGNORECASE)
    if declaration is not None:
        return [(data[: declaration.start()].count(b"\n") + 1,
                 "El SVG no puede tener declaraciones <!DOCTYPE> ni <!ENTITY>; guarde el dibujo de nuevo como "
                 "«SVG simple».")]
    problems: list[tuple[int, str]] = []
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[str] = []
    style: list[str] = []
    style_line = 0

    def add(message: str) -> None:
        problems.append((parser.CurrentLineNumber, message))

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal style_line
        namespace, _, local = name.rpartition(" ")
        element = local.lower()
        if not stack and (local != "svg" or namespace != _SVG_NS):
            add(f'El archivo no es un dibujo SVG: el primer elemento debe ser <svg xmlns="{_SVG_NS}">.')
        if element == "script":
            add("El SVG no puede tener <script> (código que se ejecuta); quítelo.")
        elif element == "foreignobject":
            add("El SVG no puede tener <foreignObject>; quítelo.")
        elif element == "style":
            style.clear()
            style_line = parser.CurrentLineNumber
        for attribute_name, value in attributes.items():
            attribute = attribute_name.rpartition(" ")[2]
            if attribute.lower().startswith("on"):
                add(f"El SVG no puede tener el atributo «{attribute}» (código que se ejecuta); quítelo.")
            elif attribute.lower() == "href" and not value.strip().startswith("#"):
                add(f"El SVG solo puede enlazar a partes de sí mismo (#...); se encontró «{_shown(value)}». "
                    "Los enlaces y las imágenes de afuera no se permiten.")
            elif element in {"set", "animate"} and attribute == "attributeName" and (
                    value.lower().rpartition(":")[2] == "href" or value.lower().startswith("on")):
                add(f"El SVG no puede animar el atributo «{value}»; quite esa animación.")
            elif _CSS_EXTERNAL.search(value):
                add(f"El SVG no puede usar recursos de afuera («{_shown(value)}»); solo url(#...) hacia partes "
                    "del mismo dibujo.")
        stack.append(element)

    def end(name: str) -> None:
        if stack.pop() == "style" and _CSS_EXTERNAL.search("".join(style)):
            problems.append((style_line, "El estilo del SVG no puede usar recursos de afuera (url(...) o "
                                         "@import); solo url(#...) hacia partes del mismo dibujo."))

    def characters(text: str) -> None:
        if stack and stack[-1] == "style":
            style.append(text)

    def instruction(target: str, data: str) -> None:
        add(f"El SVG no puede tener instrucciones <?{target} ...?>; quítelas.")

    def declaration_found(*args: object) -> None:
        add("El SVG no puede tener declaraciones <!DOCTYPE> ni <!ENTITY>.")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.ProcessingInstructionHandler = instruction
    parser.StartDoctypeDeclHandler = declaration_found
    parser.EntityDeclHandler = declaration_found
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        problems.append((exc.lineno, "El SVG no es un archivo XML válido, quizá está incompleto o dañado "
                                     f"(detalle técnico: {xml.parsers.expat.ErrorString(exc.code)}); guárdelo "
                                     "de nuevo desde el programa de dibujo."))
    return problems


def _load_media(folder: Path, root: Path, report: _Report) -> dict[str, MediaSpec]:
    """The module's media by path ("media/<name>"), including files with problems (so that a lesson showing
    them is not also told the image is missing)."""
    media: dict[str, MediaSpec] = {}
    media_dir = folder / "media"
    if not media_dir.is_dir() or media_dir.is_symlink():
        return media
    for path in sorted(media_dir.iterdir()):
        if path.name.startswith("."):
            continue
        file = _relative(path, root)
        if path.is_symlink():  # reported by _report_links; known by name, so a lesson showing it is not told more
            key = f"media/{path.name}"
            media[key] = MediaSpec(path=key, sha256="", media_type=MEDIA_TYPES.get(path.suffix.lower(), ""), data=b"")
            continue
        if path.is_dir():
            report.add(file, 1, "Dentro de media/ no puede haber otras carpetas; deje las imágenes directamente "
                                "en media/.")
            continue
        extension = path.suffix.lower()
        media_type = MEDIA_TYPES.get(extension)
        if media_type is None:
            report.add(file, 1, "Tipo de archivo no admitido en media/: use imágenes .svg, .png, .jpg, .jpeg o "
                                ".webp (o la narración grabada de una lección, .opus u .ogg).")
            continue
        key = f"media/{path.name}"
        size = path.stat().st_size
        if extension in AUDIO_EXTENSIONS and size > MAX_AUDIO_BYTES:
            megabytes = f"{size / (1024 * 1024):.2f}".replace(".", ",")
            report.add(file, 1, f"La grabación pesa {megabytes} MB y el máximo es 3 MB; grábela en Opus mono a "
                                "16 kbit/s (unos 120 KB por minuto).")
            media[key] = MediaSpec(path=key, sha256="", media_type=media_type, data=b"")
            continue
        if extension not in AUDIO_EXTENSIONS and size > MAX_MEDIA_BYTES:
            megabytes = f"{size / MAX_MEDIA_BYTES:.2f}".replace(".", ",")
            report.add(file, 1, f"La imagen pesa {megabytes} MB y el máximo es 1 MB; redúzcala (muchas "
                                "participantes tienen internet lento).")
            media[key] = MediaSpec(path=key, sha256="", media_type=media_type, data=b"")
            continue
        data = path.read_bytes()
        if extension == ".svg":
            for line, message in check_svg(data):
                report.add(file, line, message)
        elif not _RASTER_SIGNATURES[extension](data):
            what = "una grabación Ogg/Opus" if extension in AUDIO_EXTENSIONS else f"una imagen {extension[1:].upper()}"
            report.add(file, 1, f"El archivo no es {what} válida (quizá está dañado o tiene otra extensión).")
        media[key] = MediaSpec(path=key, sha256=hashlib.sha256(data).hexdigest(), media_type=media_type, data=data)
    return media


# --- Markdown ---------------------------------------------------------------------------------------------------


class _LessonMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        """Let every link and image through the parser so that the bad ones (javascript:, data:, ...) are
        named to the author instead of silently becoming text; sanitize_html is the last line of defence."""
        return True


_MD = _LessonMarkdown("commonmark", {"linkify": False, "typographer": False}).enable("table")


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        return value if _BLOB_SRC.fullmatch(value) else None
    if element == "a" and attribute == "href":
        return value if _SAFE_HREF.match(value) else None
    return value


def sanitize_html(html: str) -> str:
    """Only the tags and attributes a lesson needs: no script, no event handlers, no styles, links only to
    http(s) or #fragments, images only from this service's blobs."""
    return str(nh3.clean(
        html, tags=set(ALLOWED_TAGS), clean_content_tags=_DROPPED_WITH_CONTENT, attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute, url_schemes={"http", "https"}, strip_comments=True,
        link_rel="noopener noreferrer",
    ))


def blob_url(sha256: str) -> str:
    return BLOB_PREFIX + sha256


def _render_lesson(body: str, first_line: int, file: str, media: dict[str, MediaSpec],
                   report: _Report) -> tuple[str, tuple[str, ...]]:
    """(sanitised HTML, sha256 of the images shown), reporting raw HTML, bad headings, images and links."""
    tokens = _MD.parse(body)
    shown: list[str] = []
    html_lines: set[int] = set()

    def raw_html(line: int, content: str) -> None:
        if line not in html_lines:
            html_lines.add(line)
            report.add(file, line, f"El Markdown no admite HTML (se encontró «{_shown(content.strip())}»). Use "
                                   "solo Markdown: **negrita**, listas con «- », imágenes con ![descripción](media/"
                                   "archivo.svg).")

    line = first_line
    for token in tokens:
        if token.map:
            line = first_line + token.map[0]
        if token.type == "html_block":
            raw_html(line, token.content)
        elif token.type == "heading_open" and token.tag == "h1":
            report.add(file, line, "Los títulos dentro de la lección empiezan con ## (dos numerales); el título "
                                   "de la lección va en el encabezado («title»).")
        elif token.type == "heading_open" and token.tag in {"h5", "h6"}:
            report.add(file, line, "Use como máximo cuatro numerales (####) para los subtítulos.")
        elif token.type == "inline":
            inline_line = line
            for child in token.children or []:
                if child.type in {"softbreak", "hardbreak"}:
                    inline_line += 1
                elif child.type == "html_inline":
                    raw_html(inline_line, child.content)
                    inline_line += child.content.count("\n")
                elif child.type == "image":
                    sha = _check_image(str(child.attrGet("src") or ""), child.content, inline_line, file, media,
                                       report)
                    if sha is not None:
                        child.attrSet("src", blob_url(sha))
                        if sha not in shown:
                            shown.append(sha)
                elif child.type == "link_open":
                    _check_link(str(child.attrGet("href") or ""), inline_line, file, report)
    html = _MD.renderer.render(tokens, _MD.options, {})
    return sanitize_html(html), tuple(shown)


def _check_image(src: str, alt: str, line: int, file: str, media: dict[str, MediaSpec],
                 report: _Report) -> str | None:
    """The sha256 of the image's file, or None after reporting why it cannot be shown."""
    path = unquote(src).strip()
    if not alt.strip():
        report.add(file, line, f"La imagen «{_shown(path)}» no tiene texto alternativo: escriba entre los corchetes "
                               "qué muestra, por ejemplo ![Una mujer teje en telar](media/telar.svg). Lo escuchan "
                               "las personas que no pueden ver la imagen.")
    if path.startswith("//") or _URL_SCHEME.match(path):
        report.add(file, line, f"recurso remoto no permitido: la imagen «{_shown(path)}» debe estar guardada en la "
                               "carpeta media/ del módulo, por ejemplo media/telar.svg.")
        return None
    spec = media.get(path.removeprefix("./"))
    if spec is None:
        report.add(file, line, f"imagen no encontrada: «{_shown(path)}». Las imágenes deben estar en la carpeta "
                               "media/ del módulo y escribirse así: media/nombre-del-archivo.svg.")
        return None
    return spec.sha256


def _check_link(href: str, line: int, file: str, report: _Report) -> None:
    target = unquote(href).strip()
    if target.lower().replace(" ", "").startswith(("javascript:", "vbscript:", "data:")):
        report.add(file, line, f"enlace no permitido: «{_shown(target)}» ejecuta código o esconde contenido.")
    elif not _SAFE_HREF.match(target):
        report.add(file, line, f"El enlace «{_shown(target)}» no es una página web: los enlaces deben empezar con "
                               "https:// (o http://), por ejemplo https://www.unesco.org.")


# --- lessons and quizzes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LessonFile:
    path: Path
    file: str
    position: int
    slug: str


def _load_lesson(lesson: _LessonFile, media: dict[str, MediaSpec], report: _Report) -> LessonSpec | None:
    text = _read_text(lesson.path, lesson.file, report)
    if text is None:
        return None
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        report.add(lesson.file, 1, "Falta el encabezado de la lección: la primera línea debe ser ---, después "
                                   "title, estimated_minutes y required, y luego otra línea ---.")
        return None
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if close is None:
        report.add(lesson.file, 1, "El encabezado de la lección no se cierra: falta una segunda línea --- después "
                                   "de title, estimated_minutes y required.")
        return None
    parsed, data = _parse_yaml("\n".join(lines[1:close]), lesson.file, report, first_line=2)
    header = _mapping(data, lesson.file, 2, report, "El encabezado de la lección") if parsed else None
    title = minutes = required = None
    if header is not None:
        fields = _Fields(header, lesson.file, report, LESSON_KEYS)
        title, minutes, required = fields.text("title"), fields.integer("estimated_minutes"), fields.boolean("required")
    body = "\n".join(lines[close + 1:])
    if not body.strip():
        report.add(lesson.file, close + 1, "La lección no tiene texto después del encabezado.")
    html, shown = _render_lesson(body, close + 2, lesson.file, media, report)
    if title is None or minutes is None or required is None:
        return None
    return LessonSpec(slug=lesson.slug, title=title, estimated_minutes=minutes, required=required,
                      position=lesson.position, html=html, media=shown)


def _load_quiz(path: Path, file: str, report: _Report) -> QuizSpec | None:
    text = _read_text(path, file, report)
    if text is None:
        return None
    parsed, data = _parse_yaml(text, file, report)
    quiz = _mapping(data, file, 1, report, "El cuestionario") if parsed else None
    if quiz is None:
        return None
    fields = _Fields(quiz, file, report, QUIZ_KEYS)
    pass_mark: float | None = None
    if "pass_mark" not in quiz:
        fields.problem("pass_mark", f"Falta la clave «pass_mark» ({QUIZ_KEYS['pass_mark']}).")
    else:
        value = quiz["pass_mark"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            fields.problem("pass_mark", "«pass_mark» (la nota para aprobar) debe ser un número mayor que 0 y como "
                                        f"máximo 1, por ejemplo 0.7 para el 70 % (se encontró «{_shown(value)}»).")
        else:
            pass_mark = float(value)
    items = fields.sequence("questions")
    questions: list[QuestionSpec] = []
    ok = fields.ok
    if items is not None:
        seen: set[str] = set()
        for item, line in zip(items, items.item_lines, strict=True):
            question = _load_question(item, line, file, seen, report)
            if question is None:
                ok = False
            else:
                questions.append(question)
    if not ok or pass_mark is None or items is None:
        return None
    return QuizSpec(pass_mark=pass_mark, questions=tuple(questions))


def _load_question(item: Any, line: int, file: str, seen: set[str], report: _Report) -> QuestionSpec | None:
    if not isinstance(item, _Map):
        report.add(file, line, "Cada pregunta debe tener id, kind, prompt y options, por ejemplo «- id: q1».")
        return None
    fields = _Fields(item, file, report, QUESTION_KEYS)
    question_id = fields.identifier("id")
    if question_id is not None:
        if question_id in seen:
            fields.problem("id", f"El id de pregunta «{question_id}» se repite en este cuestionario; cada pregunta "
                                 "necesita un id distinto.")
        seen.add(question_id)
    kind: QuestionKind | None = None
    if "kind" not in item:
        fields.problem("kind", f"Falta la clave «kind» ({QUESTION_KEYS['kind']}).")
    elif item["kind"] not in QUESTION_KINDS:
        fields.problem("kind", "«kind» (el tipo de pregunta) debe ser single (una respuesta), multiple (varias "
                               f"respuestas) o true_false (verdadero o falso); se encontró «{_shown(item['kind'])}».")
    else:
        kind = item["kind"]
    prompt = fields.text("prompt")
    options: list[OptionSpec] = []
    options_ok = True
    items = fields.sequence("options")
    if items is not None:
        if len(items) < 2:
            fields.problem("options", "Una pregunta necesita al menos dos opciones.")
        option_ids: set[str] = set()
        for option_item, option_line in zip(items, items.item_lines, strict=True):
            option = _load_option(option_item, option_line, file, option_ids, report)
            if option is None:
                options_ok = False
            else:
                options.append(option)
    name = f"la pregunta «{question_id}»" if question_id else "esta pregunta"
    title = name[:1].upper() + name[1:]
    if kind is not None and items is not None and options_ok:
        correct = sum(option.correct for option in options)
        if correct == 0:
            report.add(file, item.line, f"Sin respuesta correcta: {name} no tiene ninguna "
                                        "opción con «correct: true»; marque la respuesta correcta.")
            fields.ok = False
        elif correct > 1 and kind in {"single", "true_false"}:
            report.add(file, item.line, f"{title} es de una sola respuesta ({kind}) pero tiene {correct} "
                                        "opciones con «correct: true»; deje solo una correcta, o use «kind: "
                                        "multiple».")
            fields.ok = False
        if kind == "true_false" and sorted(option.id for option in options) != ["false", "true"]:
            found = ", ".join(option.id for option in options)
            report.add(file, item.line, f"{title} es de verdadero o falso: debe tener exactamente dos opciones, "
                                        f'con id "true" (verdadero) y id "false" (falso); se encontró: {found}.')
            fields.ok = False
    if not fields.ok or not options_ok or question_id is None or kind is None or prompt is None:
        return None
    return QuestionSpec(id=question_id, kind=kind, prompt=prompt, options=tuple(options))


def _load_option(item: Any, line: int, file: str, seen: set[str], report: _Report) -> OptionSpec | None:
    if not isinstance(item, _Map):
        report.add(file, line, "Cada opción debe tener id y text (y correct: true si es la correcta), por ejemplo "
                               "«- id: a».")
        return None
    fields = _Fields(item, file, report, OPTION_KEYS)
    option_id = fields.identifier("id")
    if option_id is not None:
        if option_id in seen:
            fields.problem("id", f"El id de opción «{option_id}» se repite en esta pregunta; cada opción necesita "
                                 "un id distinto.")
        seen.add(option_id)
    text = fields.text("text")
    correct = fields.boolean("correct", default=False)
    if not fields.ok or option_id is None or text is None or correct is None:
        return None
    return OptionSpec(id=option_id, text=text, correct=correct)


# --- modules ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ModuleHeader:
    file: str
    slug: str | None
    slug_line: int
    order: int | None
    order_line: int


def _load_module(folder: Path, number: str, folder_slug: str, root: Path,
                 report: _Report) -> tuple[ModuleSpec | None, _ModuleHeader | None]:
    folder_file = _relative(folder, root)
    yaml_path = folder / "module.yaml"
    yaml_file = _relative(yaml_path, root)
    _report_links(folder, root, report)
    media = _load_media(folder, root, report)

    header: _ModuleHeader | None = None
    values: dict[str, Any] = {}
    if not yaml_path.is_file() and not yaml_path.is_symlink():
        report.add(yaml_file, 1, "Falta el archivo module.yaml con slug, title, summary, order, estimated_minutes, "
                                 "required y objectives del módulo.")
    else:
        text = _read_text(yaml_path, yaml_file, report)
        parsed, data = _parse_yaml(text, yaml_file, report) if text is not None else (False, None)
        module = _mapping(data, yaml_file, 1, report, "El archivo module.yaml") if parsed else None
        if module is not None:
            fields = _Fields(module, yaml_file, report, MODULE_KEYS)
            slug = fields.text("slug")
            if slug is not None and not _IDENTIFIER.fullmatch(slug):
                fields.problem("slug", f"«slug» solo puede tener letras minúsculas sin tildes, números y guiones "
                                       f"(se encontró «{_shown(slug)}»).")
            elif slug is not None and slug != folder_slug:
                fields.problem("slug", f"«slug: {slug}» no coincide con el nombre de la carpeta «{folder.name}»; "
                                       f"debe ser «{folder_slug}» (el nombre de la carpeta sin el número).")
            order = fields.integer("order")
            if order is not None and order != int(number):
                fields.problem("order", f"«order: {order}» no coincide con el número de la carpeta «{folder.name}»; "
                                        "use el mismo número en los dos lugares.")
            objectives = fields.sequence("objectives")
            if objectives is not None:
                for objective, line in zip(objectives, objectives.item_lines, strict=True):
                    if not isinstance(objective, str) or not objective.strip():
                        report.add(yaml_file, line, "Cada objetivo debe ser un texto que no esté vacío; escríbalo "
                                                    "entre comillas.")
                        fields.ok = False
            values = {
                "slug": slug, "title": fields.text("title"), "summary": fields.text("summary"), "order": order,
                "estimated_minutes": fields.integer("estimated_minutes"), "required": fields.boolean("required"),
                "objectives": None if objectives is None else tuple(str(o).strip() for o in objectives),
            }
            header = _ModuleHeader(yaml_file, slug, fields.line("slug"), order, fields.line("order"))
            if not fields.ok:
                values = {}

    lessons, quizzes = _module_files(folder, root, report)
    if not lessons:
        report.add(folder_file, 1, "El módulo no tiene lecciones: agregue al menos un archivo NN-nombre.md, por "
                                   "ejemplo 01-bienvenida.md.")
    specs: dict[str, LessonSpec | None] = {stem: _load_lesson(lesson, media, report) for stem, lesson in
                                          lessons.items()}
    for stem, (path, file) in quizzes.items():
        quiz = _load_quiz(path, file, report)
        if stem not in lessons:
            report.add(file, 1, f"Este cuestionario no tiene lección: no hay ninguna lección «{stem}.md» en la "
                                "carpeta del módulo. El cuestionario se debe llamar igual que su lección.")
            continue
        lesson = specs[stem]
        if lesson is not None and quiz is not None:
            specs[stem] = replace(lesson, quiz=quiz)

    if not values or any(v is None for v in values.values()) or any(s is None for s in specs.values()):
        return None, header
    ordered = sorted((s for s in specs.values() if s is not None), key=lambda lesson: lesson.position)
    return ModuleSpec(
        slug=values["slug"], title=values["title"], summary=values["summary"], position=values["order"],
        estimated_minutes=values["estimated_minutes"], required=values["required"],
        objectives=values["objectives"], lessons=tuple(ordered),
        media=tuple(sorted(media.values(), key=lambda m: m.path)),
    ), header


def _module_files(folder: Path, root: Path,
                  report: _Report) -> tuple[dict[str, _LessonFile], dict[str, tuple[Path, str]]]:
    """The module's lessons and quizzes, both by stem ("NN-slug"); anything else is reported."""
    lessons: dict[str, _LessonFile] = {}
    quizzes: dict[str, tuple[Path, str]] = {}
    slugs: dict[str, str] = {}
    positions: dict[int, str] = {}
    for path in sorted(folder.iterdir()):
        name, file = path.name, _relative(path, root)
        if name.startswith(".") or name == "module.yaml" or (name == "media" and path.is_dir()):
            continue
        # a link is reported by _report_links; a lesson or quiz is still known by its name (and not read), so
        # that nothing else is reported about it
        link = path.is_symlink()
        if path.is_dir() and not link:
            report.add(file, 1, "Carpeta no reconocida: un módulo solo tiene module.yaml, lecciones NN-nombre.md, "
                                "cuestionarios NN-nombre.quiz.yaml y la carpeta media/.")
            continue
        if quiz := _QUIZ_FILE.fullmatch(name):
            quizzes[quiz.group(1)] = (path, file)
            continue
        lesson = _LESSON_FILE.fullmatch(name)
        if lesson is None:
            if link:
                continue
            report.add(file, 1, "Nombre de archivo no reconocido: las lecciones se llaman NN-nombre.md y los "
                                "cuestionarios NN-nombre.quiz.yaml (dos cifras, un guion y el nombre en minúsculas "
                                "sin tildes, con guiones en lugar de espacios), por ejemplo 01-bienvenida.md.")
            continue
        position, slug = int(lesson.group(1)), lesson.group(2)
        if slug in slugs:
            report.add(file, 1, f"Ya hay otra lección llamada «{slug}» en este módulo ({slugs[slug]}); cada lección "
                                "necesita un nombre distinto.")
            continue
        if position in positions:
            report.add(file, 1, f"El número {lesson.group(1)} ya lo usa la lección {positions[position]}; cada "
                                "lección necesita un número distinto.")
            continue
        slugs[slug], positions[position] = name, name
        lessons[name.removesuffix(".md")] = _LessonFile(path, file, position, slug)
    return lessons, quizzes


def load_content(root: Path) -> list[ModuleSpec]:
    """Every module under ``root``, sorted by position; raises ContentInvalid listing every problem found."""
    report = _Report()
    if not root.is_dir():
        raise ContentInvalid([ContentProblem(".", 1, f"No se encontró la carpeta de contenidos «{root}».")])
    modules: list[ModuleSpec] = []
    headers: list[_ModuleHeader] = []
    found = False
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue  # a README next to the modules is fine
        found = True
        if folder.is_symlink():
            report.add(folder.name, 1, _LINK_MESSAGE)
            continue
        match = _MODULE_DIR.fullmatch(folder.name)
        if match is None:
            report.add(folder.name, 1, "El nombre de la carpeta del módulo debe tener la forma NN-nombre: dos "
                                       "cifras, un guion y el nombre en minúsculas sin tildes, con guiones en lugar "
                                       "de espacios, por ejemplo 01-saberes-y-oficios.")
            continue
        module, header = _load_module(folder, match.group(1), match.group(2), root, report)
        if module is not None:
            modules.append(module)
        if header is not None:
            headers.append(header)
    if not found:
        report.add(".", 1, "No hay ningún módulo: cada módulo es una carpeta NN-nombre con su module.yaml.")
    orders: dict[int, str] = {}
    slugs: dict[str, str] = {}
    for header in headers:
        if header.order is not None:
            if header.order in orders:
                report.add(header.file, header.order_line, f"El orden {header.order} ya lo usa {orders[header.order]}"
                                                           "; cada módulo necesita un número distinto.")
            orders.setdefault(header.order, header.file)
        if header.slug is not None:
            if header.slug in slugs:
                report.add(header.file, header.slug_line, f"El slug «{header.slug}» ya lo usa {slugs[header.slug]}"
                                                          "; cada módulo necesita un nombre distinto.")
            slugs.setdefault(header.slug, header.file)
    if report.problems:
        raise ContentInvalid(sorted(report.problems, key=lambda p: (p.file, p.line, p.message)))
    return sorted(modules, key=lambda module: module.position)
