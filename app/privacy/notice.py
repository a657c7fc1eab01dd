"""The privacy notice shown before applying; every accepted version is kept, the last one is current."""

NOTICES: dict[str, str] = {
    "2026-01": """\
Aviso de privacidad de Caminos de Saberes

Responsables: el Grupo Técnico de Cultura de la Alianza del Pacífico y el ministerio o la entidad de cultura de
su país (Perú, Chile, Colombia o México).

Qué datos pedimos y para qué:
- Sus nombres, fecha de nacimiento, país, región y localidad, si vive en zona rural y si tiene internet: para
  saber si puede participar y para organizar los grupos de cada país.
- Su correo o teléfono y su documento de identidad: para evitar inscripciones repetidas y para ayudarle a entrar.
- Su avance en los módulos: para acompañarla y para emitir su certificado.

Datos sensibles (opcionales): su pueblo o etnia y las lenguas que habla. No son obligatorios para participar.
Solo los guardamos si usted marca la casilla de datos sensibles. Nadie del equipo verá estos datos con su
nombre: se usan solo en cifras de conjunto, y los grupos de menos de 5 personas se muestran como "<5".

Quién ve sus datos: usted; la coordinadora de su país; las administradoras del programa. No vendemos ni
cedemos sus datos.

Sus derechos: puede ver todos sus datos, corregirlos, pedir que se borren y retirar su consentimiento,
escribiendo a su coordinadora. Estos derechos están protegidos por la Ley 29733 (Perú), la Ley 1581 (Colombia),
las leyes 19.628 y 21.719 (Chile) y la Ley Federal de Protección de Datos Personales en Posesión de los
Particulares (México).

Cuánto tiempo: mientras dure el programa y el tiempo que la ley pida para los certificados.
""",
}

CURRENT_NOTICE_VERSION = max(NOTICES)
