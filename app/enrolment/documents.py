"""Identity documents of the four countries: format and check digits. Each returns the normalised number."""

import re

from pydantic_core import PydanticCustomError

_CURP_STATES = (
    "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE"
).split()
_CURP_RE = re.compile(
    r"^[A-Z][AEIOUX][A-Z]{2}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[HMX]"
    r"(" + "|".join(_CURP_STATES) + r")[B-DF-HJ-NP-TV-Z]{3}[A-Z\d]\d$"
)
_CURP_DICT = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def run_check_digit(body: str) -> str:
    total, factor = 0, 2
    for digit in reversed(body):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    value = 11 - total % 11
    return {11: "0", 10: "K"}.get(value, str(value))


def curp_check_digit(first17: str) -> str:
    total = sum(_CURP_DICT.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return str((10 - total % 10) % 10)


def normalise_dni(number: str) -> str:
    if not re.fullmatch(r"\d{8}", number.strip()):
        raise PydanticCustomError("dni", "DNI must have 8 digits")
    return number.strip()


def normalise_run(number: str) -> str:
    compact = re.sub(r"[.\s]", "", number.strip().upper())
    match = re.fullmatch(r"(\d{1,8})-?([\dK])", compact)
    if not match or run_check_digit(match.group(1)) != match.group(2) or int(match.group(1)) == 0:
        raise PydanticCustomError("run", "invalid RUN")
    return f"{int(match.group(1))}-{match.group(2)}"


def normalise_cc(number: str) -> str:
    compact = re.sub(r"[.\s]", "", number.strip())
    if not re.fullmatch(r"[1-9]\d{5,9}", compact):
        raise PydanticCustomError("cc", "a cédula has 6 to 10 digits")
    return compact


def normalise_curp(number: str) -> str:
    curp = number.strip().upper()
    if not _CURP_RE.fullmatch(curp) or curp_check_digit(curp[:17]) != curp[17]:
        raise PydanticCustomError("curp", "invalid CURP")
    return curp


NORMALISERS = {"DNI": normalise_dni, "RUN": normalise_run, "CC": normalise_cc, "CURP": normalise_curp}
