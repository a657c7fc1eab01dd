"""Human-facing text: Spanish by default, English when ``Accept-Language`` prefers it."""

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # a type only: the job worker imports this module, and not Starlette
    from starlette.requests import HTTPConnection

Locale = Literal["es", "en"]

MESSAGES: dict[str, dict[Locale, str]] = {
    # generic
    "bad_request": {"es": "La solicitud no es válida.", "en": "The request is not valid."},
    "not_found": {"es": "No encontrado.", "en": "Not found."},
    "method_not_allowed": {"es": "Método no permitido.", "en": "Method not allowed."},
    "internal_error": {
        "es": "Error interno. Ya quedó registrado; intente de nuevo más tarde.",
        "en": "Internal error. It has been logged; please try again later.",
    },
    "invalid_input": {"es": "Hay datos que corregir.", "en": "Some fields need correcting."},
    "not_authenticated": {"es": "Debe iniciar sesión.", "en": "You must log in."},
    "forbidden": {"es": "No tiene permiso para esta acción.", "en": "You are not allowed to do this."},
    "throttled": {
        "es": "Demasiados intentos. Espere un momento e intente de nuevo.",
        "en": "Too many attempts. Wait a moment and try again.",
    },
    "unsupported_media_type": {
        "es": "El cuerpo debe enviarse como JSON (Content-Type: application/json).",
        "en": "The body must be sent as JSON (Content-Type: application/json).",
    },
    "form_expected": {
        "es": "El cuerpo debe enviarse como formulario (application/x-www-form-urlencoded).",
        "en": "The body must be sent as a form (application/x-www-form-urlencoded).",
    },
    "invalid_query_string": {
        "es": "La dirección tiene caracteres que no son UTF-8.",
        "en": "The address holds characters that are not UTF-8.",
    },
    "database_unavailable": {"es": "La base de datos no responde.", "en": "The database does not answer."},
    "database_busy": {"es": "El servicio está muy ocupado en este momento. Intente de nuevo en unos segundos.",
                      "en": "The service is very busy right now. Please try again in a few seconds."},
    "range_not_satisfiable": {
        "es": "El rango pedido está fuera del archivo; pida el archivo desde un byte menor que su tamaño.",
        "en": "The requested range is outside the file; ask from a byte below its size.",
    },
    # auth
    "invalid_credentials": {"es": "Usuario o contraseña incorrectos.", "en": "Wrong username or password."},
    "invalid_activation_code": {
        "es": "El código de activación no es válido, ya se usó o venció. Pida uno nuevo a su coordinadora.",
        "en": "The activation code is not valid, was already used or has expired. Ask your coordinator.",
    },
    "wrong_password": {
        "es": "La contraseña actual no es correcta. Su contraseña no cambió.",
        "en": "The current password is wrong. Your password did not change.",
    },
    "email_taken": {"es": "Ese correo ya está registrado.", "en": "That email is already registered."},
    "coordinator_needs_country": {
        "es": "Una coordinadora tiene exactamente un país.",
        "en": "A coordinator has exactly one country.",
    },
    "admin_has_no_country": {
        "es": "Una administradora no tiene país.",
        "en": "An administrator has no country.",
    },
    "progress_of_another_person": {
        "es": "El archivo de avance es de otra persona (su usuario no es el de esta participante). No se registró "
              "nada.",
        "en": "The progress file belongs to someone else (its username is not this participant's). Nothing was "
              "recorded.",
    },
    "progress_import_is_for_staff": {
        "es": "Suba su propio avance en «Mi avance»; esta carga es para su coordinadora.",
        "en": "Upload your own progress from your account; this upload is for your coordinator.",
    },
    "invalid_username": {
        "es": "El usuario del archivo de avance no es válido.",
        "en": "The progress file's username is not valid.",
    },
    "last_admin": {
        "es": "Es la última administradora activa: nombre otra antes de quitarle el rol o desactivarla.",
        "en": "This is the last active administrator: appoint another before demoting or deactivating her.",
    },
    "cannot_change_participant_role": {
        "es": "El rol de una participante no se cambia aquí.",
        "en": "A participant's role is not changed here.",
    },
    # countries
    "capacity_below_enrolled": {
        "es": "El cupo no puede ser menor que el número de inscritas.",
        "en": "The capacity cannot be lower than the number enrolled.",
    },
    # applications and enrolments
    "not_eligible": {
        "es": "La postulación no cumple los requisitos del programa.",
        "en": "The application does not meet the programme's requirements.",
    },
    "duplicate_application": {
        "es": "Ya hay una persona registrada con este documento o correo. Si es usted, inicie sesión para "
              "postular de nuevo, o pida ayuda a la coordinadora de su país.",
        "en": "Someone is already registered with this document or email. If it is you, log in to apply "
              "again, or ask your country's coordinator for help.",
    },
    "idempotency_key_reused": {
        "es": "Esta clave de idempotencia ya se usó con otra solicitud.",
        "en": "This idempotency key was already used with another request.",
    },
    "idempotency_in_progress": {
        "es": "Una solicitud con esta clave está en curso; intente de nuevo en un momento.",
        "en": "A request with this key is in progress; retry in a moment.",
    },
    "invalid_transition": {
        "es": "La inscripción no puede pasar a ese estado.",
        "en": "The enrolment cannot move to that status.",
    },
    "already_withdrawn": {
        "es": "La inscripción ya fue retirada.",
        "en": "The enrolment has already been withdrawn.",
    },
    "not_promoted": {
        "es": "Esta inscripción no llegó desde la lista de espera, o ya no está inscrita: no hay aviso que marcar.",
        "en": "This enrolment did not come from the waitlist, or is no longer enrolled: there is nothing to mark.",
    },
    "not_a_spreadsheet": {
        "es": "El archivo no es una planilla CSV o XLSX legible.",
        "en": "The file is not a readable CSV or XLSX spreadsheet.",
    },
    "file_too_large": {
        "es": "El archivo es demasiado grande (máximo 10 MB).",
        "en": "The file is too large (at most 10 MB).",
    },
    "spreadsheet_columns": {
        "es": "Las columnas de la planilla no son las de la plantilla: revise las indicadas.",
        "en": "The spreadsheet's columns are not the template's: check those listed.",
    },
    "too_many_rows": {
        "es": "La planilla tiene demasiadas filas (máximo 2000). Divídala en partes.",
        "en": "The spreadsheet has too many rows (2000 at most). Split it into parts.",
    },
    "file_field_required": {
        "es": "Envíe la planilla en el campo \"file\" de un formulario multipart, o como cuerpo text/csv o XLSX.",
        "en": "Send the spreadsheet in the \"file\" field of a multipart form, or as a text/csv or XLSX body.",
    },
    "self_application_needs_account": {
        "es": "Para postular por su cuenta necesita correo y contraseña.",
        "en": "A self-application needs an email and a password.",
    },
    "enrolment_required": {
        "es": "Los módulos son para participantes inscritas. Si está en lista de espera, le avisaremos.",
        "en": "Modules are for enrolled participants. If you are on the waitlist, we will let you know.",
    },
    "packages_not_built": {
        "es": "Este módulo todavía no tiene paquetes para estudiar sin conexión; intente más tarde.",
        "en": "This module has no offline packages yet; please try again later.",
    },
    "progress_is_for_participants": {
        "es": "Solo las participantes registran avance.",
        "en": "Only participants record progress.",
    },
    "payload_too_large": {
        "es": "El envío es demasiado grande (máximo 1 MB).",
        "en": "The request is too large (1 MB at most).",
    },
    "too_many_events": {
        "es": "Demasiados eventos en un envío (máximo 500). Envíelos en partes.",
        "en": "Too many events in one request (500 at most). Send them in parts.",
    },
    "invalid_json": {"es": "El cuerpo no es JSON válido.", "en": "The body is not valid JSON."},
    "events_list_required": {
        "es": "Se espera un objeto con una lista \"events\".",
        "en": "An object with an \"events\" list is expected.",
    },
    "invalid_device_id": {
        "es": "El identificador del dispositivo no es válido.",
        "en": "The device identifier is not valid.",
    },
    # certificates
    "not_complete": {
        "es": "La participante aún no completa el programa: le faltan los módulos y lecciones indicados.",
        "en": "The participant has not completed the programme yet: the modules and lessons listed are missing.",
    },
    "certificate_not_issued": {
        "es": "Solo un certificado vigente puede revocarse o reemitirse.",
        "en": "Only a valid certificate can be revoked or reissued.",
    },
    "not_this_country": {
        "es": "Esta planilla se importa para el país elegido: deje la columna vacía o escriba ese país.",
        "en": "This spreadsheet is imported for the chosen country: leave the column empty or write that country.",
    },
    "country_out_of_scope": {
        "es": "Solo puede registrar participantes de su país.",
        "en": "You may only register participants of your own country.",
    },
}

FIELD_MESSAGES: dict[str, dict[Locale, str]] = {
    "missing": {"es": "Este dato es obligatorio.", "en": "This field is required."},
    "extra_forbidden": {"es": "Este campo no se acepta.", "en": "This field is not accepted."},
    "string_too_short": {"es": "Es demasiado corto.", "en": "Too short."},
    "string_too_long": {"es": "Es demasiado largo.", "en": "Too long."},
    "string_type": {"es": "Debe ser un texto.", "en": "Must be text."},
    "bool_type": {"es": "Debe ser verdadero o falso.", "en": "Must be true or false."},
    "bool_parsing": {"es": "Debe ser verdadero o falso.", "en": "Must be true or false."},
    "int_parsing": {"es": "Debe ser un número entero.", "en": "Must be a whole number."},
    "int_type": {"es": "Debe ser un número entero.", "en": "Must be a whole number."},
    "greater_than_equal": {"es": "El número es demasiado pequeño.", "en": "The number is too small."},
    "less_than_equal": {"es": "El número es demasiado grande.", "en": "The number is too large."},
    "date_from_datetime_parsing": {
        "es": "Debe ser una fecha con el formato AAAA-MM-DD.",
        "en": "Must be a date formatted YYYY-MM-DD.",
    },
    "date_parsing": {
        "es": "Debe ser una fecha con el formato AAAA-MM-DD.",
        "en": "Must be a date formatted YYYY-MM-DD.",
    },
    "date_type": {"es": "Debe ser una fecha con el formato AAAA-MM-DD.", "en": "Must be a date (YYYY-MM-DD)."},
    "datetime_parsing": {"es": "Debe ser una fecha y hora RFC 3339.", "en": "Must be an RFC 3339 date-time."},
    "datetime_from_date_parsing": {
        "es": "Debe ser una fecha y hora RFC 3339.",
        "en": "Must be an RFC 3339 date-time.",
    },
    "literal_error": {"es": "Valor no permitido.", "en": "Value not allowed."},
    "enum": {"es": "Valor no permitido.", "en": "Value not allowed."},
    "list_type": {"es": "Debe ser una lista.", "en": "Must be a list."},
    "too_long": {"es": "La lista es demasiado larga.", "en": "The list is too long."},
    "model_type": {"es": "Debe ser un objeto.", "en": "Must be an object."},
    "model_attributes_type": {"es": "Debe ser un objeto.", "en": "Must be an object."},
    "dict_type": {"es": "Debe ser un objeto.", "en": "Must be an object."},
    "json_invalid": {"es": "El cuerpo no es JSON válido.", "en": "The body is not valid JSON."},
    "uuid_parsing": {"es": "Debe ser un UUID.", "en": "Must be a UUID."},
    "value_error": {"es": "Valor no válido.", "en": "Invalid value."},
    "string_unicode": {"es": "Tiene caracteres no válidos.", "en": "Holds invalid characters."},
    "password_unchanged": {
        "es": "La contraseña nueva debe ser distinta de la actual.",
        "en": "The new password must differ from the current one.",
    },
    # our own validators (raised with PydanticCustomError(code, ...))
    "email": {"es": "El correo no es válido.", "en": "The email is not valid."},
    "blank": {"es": "No puede estar vacío.", "en": "Must not be blank."},
    "phone_format": {
        "es": "El teléfono debe estar en formato internacional E.164, por ejemplo +51987654321.",
        "en": "The phone must be in E.164 format, e.g. +51987654321.",
    },
    "phone_country": {
        "es": "El teléfono no tiene el código del país elegido.",
        "en": "The phone does not carry the chosen country's calling code.",
    },
    "document_type_country": {
        "es": "Ese tipo de documento no corresponde al país (PE: DNI, CL: RUN, CO: CC, MX: CURP).",
        "en": "That document type does not belong to the country (PE: DNI, CL: RUN, CO: CC, MX: CURP).",
    },
    "dni": {"es": "El DNI debe tener 8 dígitos.", "en": "A DNI has 8 digits."},
    "run": {
        "es": "El RUN no es válido (revise el dígito verificador, por ejemplo 12.345.678-5).",
        "en": "The RUN is not valid (check its verification digit, e.g. 12.345.678-5).",
    },
    "cc": {"es": "La cédula debe tener entre 6 y 10 dígitos.", "en": "A cédula has 6 to 10 digits."},
    "curp": {
        "es": "La CURP no es válida (18 caracteres con su estructura y dígito verificador).",
        "en": "The CURP is not valid (18 characters with its structure and check digit).",
    },
    "region": {
        "es": "La región no pertenece al país elegido.",
        "en": "The region does not belong to the chosen country.",
    },
    "country": {"es": "País no reconocido (PE, CL, CO o MX).", "en": "Unknown country (PE, CL, CO or MX)."},
    "consent_required": {
        "es": "Debe aceptar el aviso de privacidad para postular.",
        "en": "The privacy notice must be accepted to apply.",
    },
    "consent_version": {
        "es": "La versión del aviso de privacidad no es la vigente.",
        "en": "The privacy notice version is not the current one.",
    },
    "sensitive_without_consent": {
        "es": "La etnia y las lenguas solo se guardan con el consentimiento para datos sensibles.",
        "en": "Ethnicity and languages are only stored with consent for sensitive data.",
    },
    "birth_date_future": {"es": "La fecha de nacimiento está en el futuro.", "en": "Birth date is in the future."},
    "birth_date_past": {"es": "La fecha de nacimiento no es plausible.", "en": "Birth date is not plausible."},
    # refused at the edge (app/core/bad_input.py); also the reasons a progress event is rejected for them
    "invalid_text": {
        "es": "Contiene caracteres no permitidos (un carácter nulo o un sustituto UTF-16 suelto).",
        "en": "Contains characters that are not allowed (a NUL character or a lone UTF-16 surrogate).",
    },
    "invalid_number": {
        "es": "Contiene un número no válido (NaN o infinito).",
        "en": "Contains a number that is not valid (NaN or infinity).",
    },
    "too_deep": {
        "es": "Tiene demasiados niveles anidados.",
        "en": "Is nested too deeply.",
    },
    # a row of a bulk registration (app/enrolment/imports.py)
    "unknown_column": {
        "es": "Columna desconocida: no está en la plantilla.",
        "en": "Unknown column: not in the template.",
    },
    "missing_column": {"es": "Falta esta columna de la plantilla.", "en": "This column of the template is missing."},
    "duplicate_column": {"es": "Esta columna aparece dos veces.", "en": "This column appears twice."},
    "yes_no": {"es": "Escriba sí o no.", "en": "Write yes (sí) or no."},
    "possible_duplicate": {
        "es": "Parece una mujer ya registrada (mismos nombres, fecha de nacimiento y localidad) y no se guardó. "
              "Si es otra persona, regístrela con su documento o correo.",
        "en": "Looks like a woman already registered (same names, birth date and locality) and was not stored. "
              "If she is someone else, register her with her document or email.",
    },
    "eligible_regions": {
        "es": "Alguna región no pertenece a ese país.",
        "en": "Some region does not belong to that country.",
    },
}

REASONS: dict[str, dict[Locale, str]] = {
    "gender": {"es": "El programa es para mujeres.", "en": "The programme is for women."},
    "birth_date": {"es": "Debe tener 18 años o más.", "en": "Applicants must be 18 or older."},
    "country": {"es": "El país no participa del programa.", "en": "The country does not take part."},
    "region": {
        "es": "La región no está entre las regiones del programa en ese país.",
        "en": "The region is not among the programme's regions in that country.",
    },
    "is_rural": {"es": "Debe residir en una zona rural.", "en": "Applicants must live in a rural area."},
    "has_internet": {
        "es": "Necesita algún acceso a internet para seguir los módulos.",
        "en": "Some internet access is needed to follow the modules.",
    },
}


# Why a progress event was not recorded, for the person (or the app) syncing it.
EVENT_REASONS: dict[str, dict[Locale, str]] = {
    "malformed": {"es": "El evento no es un objeto JSON.", "en": "The event is not a JSON object."},
    "invalid_event_id": {"es": "El identificador del evento debe ser un UUID.", "en": "The event id must be a UUID."},
    "unknown_type": {
        "es": "Tipo de evento desconocido (lesson_viewed, lesson_completed o quiz_submitted).",
        "en": "Unknown event type (lesson_viewed, lesson_completed or quiz_submitted).",
    },
    "unknown_module": {"es": "El módulo no existe.", "en": "The module does not exist."},
    "unknown_version": {
        "es": "Esa versión del módulo no existe.",
        "en": "That version of the module does not exist.",
    },
    "unknown_lesson": {
        "es": "La lección no existe en esa versión del módulo.",
        "en": "The lesson does not exist in that version of the module.",
    },
    "invalid_occurred_at": {
        "es": "La fecha del evento debe ser RFC 3339 con zona horaria, por ejemplo 2026-03-01T10:00:00Z.",
        "en": "The event time must be RFC 3339 with an offset, e.g. 2026-03-01T10:00:00Z.",
    },
    "invalid_payload": {"es": "El contenido del evento debe ser un objeto.", "en": "The payload must be an object."},
    "invalid_seconds": {
        "es": "Los segundos de lectura deben ser un número entero no negativo.",
        "en": "The seconds read must be a non-negative whole number.",
    },
    "lesson_has_no_quiz": {"es": "Esta lección no tiene cuestionario.", "en": "This lesson has no quiz."},
    "invalid_answers": {
        "es": "Las respuestas no corresponden a las preguntas del cuestionario.",
        "en": "The answers do not match the quiz's questions.",
    },
    "invalid_text": {
        "es": "El evento contiene caracteres no permitidos (un carácter nulo o un sustituto UTF-16 suelto).",
        "en": "The event contains characters that are not allowed (a NUL character or a lone UTF-16 surrogate).",
    },
    "invalid_number": {
        "es": "El evento contiene un número no válido (NaN o infinito).",
        "en": "The event contains a number that is not valid (NaN or infinity).",
    },
    "too_deep": {"es": "El evento tiene demasiados niveles anidados.", "en": "The event is nested too deeply."},
    "different_content": {
        "es": "Ya se registró otro evento con este identificador; este no cambió nada.",
        "en": "Another event was already recorded with this id; this one changed nothing.",
    },
}


def wait_text(seconds: int, locale: Locale) -> str:
    """'Intente de nuevo en 15 minutos': a wait a person can act on, rounded up."""
    if seconds < 60:
        unit_es, unit_en, amount = ("segundo", "second", max(1, seconds))
    elif seconds < 2 * 3600:
        unit_es, unit_en, amount = ("minuto", "minute", -(-seconds // 60))
    else:
        unit_es, unit_en, amount = ("hora", "hour", -(-seconds // 3600))
    plural = "" if amount == 1 else "s"
    if locale == "en":
        return f"Too many attempts. Try again in {amount} {unit_en}{plural}."
    return f"Demasiados intentos. Intente de nuevo en {amount} {unit_es}{plural}."


def parse_locale(accept_language: str | None) -> Locale:
    """The first of es/en in the header's preference order; Spanish when neither is named."""
    if not accept_language:
        return "es"
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _i, tag in sorted(ranked):
        if negative_quality >= 0:  # q=0 (or unreadable) means "not acceptable"
            continue
        primary = tag.split("-")[0]
        if primary in ("es", "en"):
            return "es" if primary == "es" else "en"
    return "es"


def request_locale(conn: "HTTPConnection") -> Locale:
    return parse_locale(conn.headers.get("accept-language"))


def translate(key: str, locale: Locale, catalogue: dict[str, dict[Locale, str]] = MESSAGES) -> str:
    entry = catalogue.get(key)
    if entry is None:
        return key
    return entry[locale]
