"""The content loader: the real modules load; broken content folders are refused with the file, the line and a
Spanish message; the HTML is sanitised whatever reaches the sanitiser."""

import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from app.content.loader import check_svg, load_content, sanitize_html
from app.content.spec import ContentInvalid, ContentProblem, ModuleSpec

REAL_CONTENT = Path(__file__).resolve().parents[2] / "modules_content"
BLOB_IMG = re.compile(r'<img src="/api/v1/blobs/[0-9a-f]{64}"')

# --- the real content -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_modules() -> list[ModuleSpec]:
    return load_content(REAL_CONTENT)


def test_real_content_loads(real_modules: list[ModuleSpec]) -> None:
    assert len(real_modules) == 6
    assert [m.position for m in real_modules] == sorted(m.position for m in real_modules)
    assert len({m.slug for m in real_modules}) == 6
    for module in real_modules:
        assert 3 <= len(module.lessons) <= 6, module.slug
        assert any(lesson.quiz is not None for lesson in module.lessons), module.slug
        assert module.objectives
        assert [m.path for m in module.media] == sorted(m.path for m in module.media)
        media = {m.sha256 for m in module.media}
        for lesson in module.lessons:
            assert BLOB_IMG.search(lesson.html), f"{module.slug}/{lesson.slug} has no image"
            assert "<script" not in lesson.html.lower()
            assert lesson.media
            assert set(lesson.media) <= media
            for sha in lesson.media:
                assert f"/api/v1/blobs/{sha}" in lesson.html
        for medium in module.media:
            assert hashlib.sha256(medium.data).hexdigest() == medium.sha256
            assert "<script" not in medium.data.decode("utf-8", "replace").lower()


def test_real_content_hash_is_stable_and_follows_the_text(real_modules: list[ModuleSpec], tmp_path: Path) -> None:
    again = load_content(REAL_CONTENT)
    assert [m.content_hash() for m in again] == [m.content_hash() for m in real_modules]

    copy = tmp_path / "modules_content"
    shutil.copytree(REAL_CONTENT, copy)
    lesson = sorted((copy / "03-costos-y-precio-justo").glob("02-*.md"))[0]
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nUna frase nueva al final.\n", encoding="utf-8")
    edited = load_content(copy)
    changed = [m.slug for m, before in zip(edited, real_modules, strict=True)
               if m.content_hash() != before.content_hash()]
    assert changed == ["costos-y-precio-justo"]


# --- a small valid module, and the table of ways to break it ----------------------------------------------------

MODULE = "01-prueba"
MODULE_YAML = f"{MODULE}/module.yaml"
LESSON = f"{MODULE}/01-primera.md"
QUIZ = f"{MODULE}/01-primera.quiz.yaml"
SVG = f"{MODULE}/media/dibujo.svg"

FIXTURE = {
    MODULE_YAML: """\
slug: prueba
title: "Módulo de prueba"
summary: "Un módulo pequeño para las pruebas."
order: 1
estimated_minutes: 10
required: true
objectives:
  - "Probar el cargador."
""",
    LESSON: """\
---
title: "Primera lección"
estimated_minutes: 5
required: true
---

Un párrafo con **negrita** y un [enlace](https://www.unesco.org).

![Un dibujo](media/dibujo.svg)
""",
    QUIZ: """\
pass_mark: 0.5
questions:
  - id: q1
    kind: single
    prompt: "¿Una pregunta?"
    options:
      - id: a
        text: "Sí"
        correct: true
      - id: b
        text: "No"
  - id: q2
    kind: true_false
    prompt: "¿Verdadero?"
    options:
      - id: "true"
        text: "Verdadero"
        correct: true
      - id: "false"
        text: "Falso"
""",
    SVG: """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
<title>Un dibujo</title>
<rect width="10" height="10" fill="#C99A5B"/>
</svg>
""",
}


def build(root: Path) -> Path:
    for name, text in FIXTURE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(root: Path, name: str, text: str) -> None:
    path = root / name
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def write(root: Path, name: str, data: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def problems_of(root: Path) -> list[ContentProblem]:
    with pytest.raises(ContentInvalid) as excinfo:
        load_content(root)
    assert excinfo.value.problems
    return excinfo.value.problems


def assert_problem(problems: list[ContentProblem], file: str, line: int, fragment: str) -> None:
    listing = "\n".join(str(p) for p in problems)
    assert any(p.file == file and p.line == line and fragment in p.message for p in problems), (
        f"expected {file}:{line}: …{fragment}… in\n{listing}")


def test_the_fixture_is_valid(tmp_path: Path) -> None:
    [module] = load_content(build(tmp_path))
    assert (module.slug, module.position, module.estimated_minutes, module.required) == ("prueba", 1, 10, True)
    [lesson] = module.lessons
    svg = FIXTURE[SVG].encode()
    sha = hashlib.sha256(svg).hexdigest()
    assert [(m.path, m.sha256, m.media_type, m.data) for m in module.media] == [
        ("media/dibujo.svg", sha, "image/svg+xml", svg)]
    assert (lesson.slug, lesson.position, lesson.title, lesson.media) == ("primera", 1, "Primera lección", (sha,))
    assert f'<img src="/api/v1/blobs/{sha}" alt="Un dibujo">' in lesson.html
    assert '<a href="https://www.unesco.org" rel="noopener noreferrer">enlace</a>' in lesson.html
    assert lesson.quiz is not None
    assert lesson.quiz.pass_mark == 0.5
    q1, q2 = lesson.quiz.questions
    assert (q1.kind, q1.correct_ids, q2.kind, q2.correct_ids) == ("single", {"a"}, "true_false", {"true"})


def test_unquoted_true_false_ids_are_read_as_strings(tmp_path: Path) -> None:
    root = build(tmp_path)
    edit(root, QUIZ, 'id: "true"', "id: true")
    edit(root, QUIZ, 'id: "false"', "id: false")
    [module] = load_content(root)
    quiz = module.lessons[0].quiz
    assert quiz is not None
    assert [o.id for o in quiz.questions[1].options] == ["true", "false"]


Mutation = Callable[[Path], None]

BROKEN: list[tuple[str, Mutation, str, int, str]] = [
    ("bad-yaml", lambda r: edit(r, MODULE_YAML, 'summary: "Un módulo pequeño para las pruebas."',
                                "summary: Un módulo: con dos puntos"), MODULE_YAML, 3, "YAML"),
    ("slug-not-folder", lambda r: edit(r, MODULE_YAML, "slug: prueba", "slug: otra-cosa"),
     MODULE_YAML, 1, "no coincide con el nombre de la carpeta"),
    ("unknown-key", lambda r: append(r, MODULE_YAML, 'autora: "Ana"\n'), MODULE_YAML, 9, "«autora» no se conoce"),
    ("misspelt-key", lambda r: edit(r, MODULE_YAML, "objectives:", "objetives:"),
     MODULE_YAML, 7, "¿Quiso escribir «objectives»?"),
    ("key-twice", lambda r: append(r, MODULE_YAML, 'title: "Otro título"\n'), MODULE_YAML, 9, "dos veces"),
    ("missing-front-matter", lambda r: write(r, LESSON, "Un texto sin encabezado.\n\n![Un dibujo](media/dibujo.svg)\n"),
     LESSON, 1, "Falta el encabezado"),
    ("front-matter-not-closed", lambda r: edit(r, LESSON, "required: true\n---\n", "required: true\n"),
     LESSON, 1, "no se cierra"),
    ("front-matter-without-title", lambda r: edit(r, LESSON, 'title: "Primera lección"\n', ""),
     LESSON, 2, "Falta la clave «title»"),
    ("minutes-in-words", lambda r: edit(r, LESSON, "estimated_minutes: 5", "estimated_minutes: diez"),
     LESSON, 3, "número entero"),
    ("required-yes-in-spanish", lambda r: edit(r, LESSON, "required: true", "required: sí"),
     LESSON, 4, "true (sí) o false (no)"),
    ("quiz-without-correct-answer", lambda r: edit(r, QUIZ, "        correct: true\n", ""),
     QUIZ, 3, "Sin respuesta correcta"),
    ("single-with-two-correct",
     lambda r: edit(r, QUIZ, '        text: "No"\n', '        text: "No"\n        correct: true\n'),
     QUIZ, 3, "una sola respuesta"),
    ("true-false-other-ids",
     lambda r: (edit(r, QUIZ, 'id: "true"', "id: si"), edit(r, QUIZ, 'id: "false"', "id: no-es")),
     QUIZ, 12, "verdadero o falso"),
    ("duplicate-question-ids", lambda r: edit(r, QUIZ, "- id: q2", "- id: q1"), QUIZ, 12, "se repite"),
    ("pass-mark-as-percent", lambda r: edit(r, QUIZ, "pass_mark: 0.5", "pass_mark: 70"), QUIZ, 1, "0.7"),
    ("unknown-question-kind", lambda r: edit(r, QUIZ, "kind: single", "kind: abierta"), QUIZ, 4, "«kind»"),
    ("quiz-without-lesson", lambda r: write(r, f"{MODULE}/02-sin-leccion.quiz.yaml", FIXTURE[QUIZ]),
     f"{MODULE}/02-sin-leccion.quiz.yaml", 1, "no tiene lección"),
    ("badly-named-lesson", lambda r: write(r, f"{MODULE}/2 Segunda lección.md", FIXTURE[LESSON]),
     f"{MODULE}/2 Segunda lección.md", 1, "Nombre de archivo no reconocido"),
    ("missing-image", lambda r: edit(r, LESSON, "media/dibujo.svg", "media/otro.svg"),
     LESSON, 9, "imagen no encontrada"),
    ("remote-image", lambda r: append(r, LESSON, "\nPrimera línea\nsegunda ![Foto](https://ejemplo.org/foto.png)\n"),
     LESSON, 12, "recurso remoto no permitido"),
    ("data-image", lambda r: append(r, LESSON, "\n![Punto](data:image/png;base64,iVBORw0KGgo=)\n"),
     LESSON, 11, "recurso remoto no permitido"),
    ("image-without-alt", lambda r: edit(r, LESSON, "![Un dibujo]", "![]"), LESSON, 9, "texto alternativo"),
    ("script-tag", lambda r: append(r, LESSON, "\n<script>alert(1)</script>\n"), LESSON, 11, "no admite HTML"),
    ("inline-img-onerror", lambda r: append(r, LESSON, "\nUn texto\ncon <img src=x onerror=alert(1)> dentro.\n"),
     LESSON, 12, "no admite HTML"),
    ("iframe", lambda r: append(r, LESSON, '\n<iframe src="https://ejemplo.org"></iframe>\n'),
     LESSON, 11, "no admite HTML"),
    ("javascript-link", lambda r: append(r, LESSON, "\n[Haga clic](javascript:alert(1))\n"),
     LESSON, 11, "enlace no permitido"),
    ("top-level-heading", lambda r: edit(r, LESSON, "Un párrafo con", "# Un título\n\nUn párrafo con"),
     LESSON, 7, "##"),
    ("svg-script", lambda r: edit(r, SVG, '<rect width="10" height="10" fill="#C99A5B"/>', "<script>alert(1)</script>"),
     SVG, 3, "<script>"),
    ("svg-onload", lambda r: edit(r, SVG, "<rect ", '<rect onload="alert(1)" '), SVG, 3, "«onload»"),
    ("svg-external-href", lambda r: edit(r, SVG, '<rect width="10" height="10" fill="#C99A5B"/>',
                                         '<image href="https://ejemplo.org/x.png" width="10" height="10"/>'),
     SVG, 3, "solo puede enlazar a partes de sí mismo"),
    ("svg-external-xlink-href", lambda r: (
        edit(r, SVG, "<svg ", '<svg xmlns:xlink="http://www.w3.org/1999/xlink" '),
        edit(r, SVG, "<rect ", '<image xlink:href="http://ejemplo.org/x.png" ')),
     SVG, 3, "solo puede enlazar a partes de sí mismo"),
    ("svg-css-remote-url", lambda r: edit(r, SVG, 'fill="#C99A5B"', 'style="fill:url(http://ejemplo.org/a.svg#p)"'),
     SVG, 3, "recursos de afuera"),
    ("svg-foreign-object", lambda r: edit(r, SVG, '<rect width="10" height="10" fill="#C99A5B"/>',
                                          "<foreignObject><p>hola</p></foreignObject>"), SVG, 3, "<foreignObject>"),
    ("svg-entity", lambda r: edit(r, SVG, "<svg ", '<!DOCTYPE svg [<!ENTITY a "b">]>\n<svg '), SVG, 1, "<!DOCTYPE>"),
    ("svg-not-xml", lambda r: edit(r, SVG, 'fill="#C99A5B"/>', 'fill="#C99A5B">'), SVG, 4, "no es un archivo XML"),
    ("media-too-large", lambda r: write(r, f"{MODULE}/media/grande.png", b"\x89PNG\r\n\x1a\n" + bytes(1_100_000)),
     f"{MODULE}/media/grande.png", 1, "1 MB"),
]


@pytest.mark.parametrize(("mutate", "file", "line", "fragment"), [row[1:] for row in BROKEN],
                         ids=[row[0] for row in BROKEN])
def test_broken_content_is_refused(tmp_path: Path, mutate: Mutation, file: str, line: int, fragment: str) -> None:
    root = build(tmp_path)
    mutate(root)
    assert_problem(problems_of(root), file, line, fragment)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = build(tmp_path)
    shutil.copytree(root / MODULE, root / "02-segundo")
    edit(root, "02-segundo/module.yaml", "slug: prueba", "slug: segundo")
    edit(root, "02-segundo/module.yaml", "order: 1", "order: 2")
    edit(root, MODULE_YAML, "estimated_minutes: 10", "estimated_minutes: -3")
    edit(root, LESSON, "media/dibujo.svg", "media/otro.svg")
    edit(root, LESSON, "Un párrafo", "Un <b>párrafo</b>")
    edit(root, QUIZ, "        correct: true\n", "")
    edit(root, SVG, "<rect ", '<rect onclick="alert(1)" ')
    edit(root, "02-segundo/01-primera.md", "required: true", "required: quizás")

    problems = problems_of(root)
    assert_problem(problems, MODULE_YAML, 5, "número entero")
    assert_problem(problems, LESSON, 7, "no admite HTML")
    assert_problem(problems, LESSON, 9, "imagen no encontrada")
    assert_problem(problems, QUIZ, 3, "Sin respuesta correcta")
    assert_problem(problems, SVG, 3, "«onclick»")
    assert_problem(problems, "02-segundo/01-primera.md", 4, "true (sí) o false (no)")
    assert len(problems) == 6
    assert problems == sorted(problems, key=lambda p: (p.file, p.line, p.message))
    assert str(problems[0]).startswith(f"{LESSON}:7: El Markdown no admite HTML")


def test_two_modules_with_the_same_order_are_refused(tmp_path: Path) -> None:
    root = build(tmp_path)
    shutil.copytree(root / MODULE, root / "01-otro")
    edit(root, "01-otro/module.yaml", "slug: prueba", "slug: otro")
    assert_problem(problems_of(root), MODULE_YAML, 4, "El orden 1 ya lo usa 01-otro/module.yaml")


def test_a_module_without_lessons_is_refused(tmp_path: Path) -> None:
    root = build(tmp_path)
    (root / LESSON).unlink()
    problems = problems_of(root)
    assert_problem(problems, MODULE, 1, "no tiene lecciones")
    assert_problem(problems, QUIZ, 1, "no tiene lección")


def test_yaml_line_numbers_follow_the_front_matter(tmp_path: Path) -> None:
    root = build(tmp_path)
    edit(root, LESSON, 'title: "Primera lección"', 'title: "Primera lección')
    assert_problem(problems_of(root), LESSON, 2, "comillas")


# --- symbolic links: content must be real files inside the content folder ---------------------------------------


def link_to_outside(root: Path, name: str, outside: Path) -> None:
    """Moves ``name`` out of the content folder and leaves a symbolic link to it in its place."""
    outside.mkdir(exist_ok=True)
    target = outside / Path(name).name
    (root / name).rename(target)
    (root / name).symlink_to(target)


def test_linked_lesson_and_image_are_refused_and_nothing_loads(tmp_path: Path) -> None:
    root = build(tmp_path / "contenido")
    link_to_outside(root, LESSON, tmp_path / "fuera")
    link_to_outside(root, SVG, tmp_path / "fuera")
    problems = problems_of(root)
    # the two links and nothing else (their lesson, quiz and image are not also reported as missing)
    assert sorted((p.file, p.line) for p in problems) == [(LESSON, 1), (SVG, 1)]
    for problem in problems:
        assert "enlace simbólico" in problem.message
        assert str(problem).startswith(f"{problem.file}:1: Es un enlace simbólico")


def test_a_link_anywhere_in_the_module_is_refused(tmp_path: Path) -> None:
    root = build(tmp_path / "contenido")
    outside = tmp_path / "fuera"
    outside.mkdir()
    (outside / "notas.txt").write_text("de otra carpeta", encoding="utf-8")
    (root / MODULE / "notas.txt").symlink_to(outside / "notas.txt")
    (root / MODULE / "media" / "roto.svg").symlink_to(outside / "no-existe.svg")  # a broken link
    link_to_outside(root, MODULE_YAML, outside)
    problems = problems_of(root)
    assert sorted(p.file for p in problems) == [f"{MODULE}/media/roto.svg", MODULE_YAML, f"{MODULE}/notas.txt"]
    assert all("enlace simbólico" in p.message for p in problems)


def test_a_linked_module_folder_is_refused(tmp_path: Path) -> None:
    elsewhere = build(tmp_path / "otro-lugar")
    root = tmp_path / "contenido"
    root.mkdir()
    (root / MODULE).symlink_to(elsewhere / MODULE, target_is_directory=True)
    problems = problems_of(root)
    assert [(p.file, p.line) for p in problems] == [(MODULE, 1)]
    assert "enlace simbólico" in problems[0].message


# --- the sanitiser and the SVG check on their own ---------------------------------------------------------------

SHA = "0" * 64


def test_sanitize_removes_everything_dangerous() -> None:
    dirty = (
        '<h1 onclick="x()">Título</h1><p style="color:red" onmouseover="x()">Hola <b>mundo</b></p>'
        "<script>alert(1)</script><style>p{background:url(http://evil)}</style>"
        '<img src="https://evil.example/x.png" onerror="alert(1)" alt="remota">'
        f'<img src="/api/v1/blobs/{SHA}" alt="local" width="9">'
        '<img src="data:image/png;base64,AAAA" alt="data">'
        '<a href="javascript:alert(1)">js</a> <a href="https://www.unesco.org" target="_blank">ok</a>'
        '<a href="&#106;avascript:alert(1)">entidad</a>'
        '<iframe src="https://evil.example"></iframe><object data="x.swf"></object>'
        '<svg onload="alert(1)"><circle r="1"/></svg><form action="https://evil"><input name="q"></form>'
        "<!-- comentario --><table><tr><td>celda</td></tr></table>"
    )
    clean = sanitize_html(dirty)
    lowered = clean.lower()
    for forbidden in ("<script", "alert", "onerror", "onclick", "onmouseover", "onload", "style", "evil",
                      "javascript", "data:", "<iframe", "<object", "<svg", "<form", "<input", "<h1", "<b>",
                      "width", "target", "comentario"):
        assert forbidden not in lowered, (forbidden, clean)
    assert f'<img src="/api/v1/blobs/{SHA}" alt="local">' in clean
    assert '<img alt="remota">' in clean
    assert '<a href="https://www.unesco.org" rel="noopener noreferrer">ok</a>' in clean
    assert "<td>celda</td>" in clean
    assert "Título" in clean
    assert "mundo" in clean


def test_sanitize_keeps_what_lessons_use() -> None:
    html = ('<h2>A</h2><h3>B</h3><h4>C</h4><p><strong>s</strong> <em>e</em> <code>c</code><br></p>'
            "<ul><li>u</li></ul><ol><li>o</li></ol><blockquote><p>q</p></blockquote><pre><code>x</code></pre>"
            "<hr><table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>"
            '<p><a href="#arriba" title="t">ancla</a></p>')
    assert sanitize_html(html) == html.replace('title="t">', 'title="t" rel="noopener noreferrer">')


def test_check_svg_accepts_a_plain_drawing_with_internal_references() -> None:
    svg = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 4 4">
<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>
<circle id="c" r="1"/></defs>
<style>circle { fill: url(#g); }</style>
<use xlink:href="#c"/><use href="#c"/><rect fill="url(#g)" width="4" height="4"/>
</svg>"""
    assert check_svg(svg) == []


@pytest.mark.parametrize(("svg", "line", "fragment"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg">\n<style>@import "https://x/y.css";</style>\n</svg>',
     2, "recursos de afuera"),
    (b'<svg xmlns="http://www.w3.org/2000/svg">\n<a href="javascript:alert(1)"><text>x</text></a>\n</svg>',
     2, "solo puede enlazar"),
    (b'<svg xmlns="http://www.w3.org/2000/svg">\n<set attributeName="href" to="javascript:alert(1)"/>\n</svg>',
     2, "no puede animar"),
    (b'<?xml-stylesheet href="https://x/y.css"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', 1, "instrucciones"),
    (b'<html xmlns="http://www.w3.org/1999/xhtml"><p>hola</p></html>', 1, "no es un dibujo SVG"),
], ids=["css-import", "javascript-anchor", "animated-href", "stylesheet-instruction", "not-svg"])
def test_check_svg_refuses(svg: bytes, line: int, fragment: str) -> None:
    problems = check_svg(svg)
    assert any(found == line and fragment in message for found, message in problems), problems
