"""Where the migrations and the training modules are, in a checkout and in an installed package alike.

A wheel carries them as this package's data (pyproject.toml maps ``app._resources.migrations`` to the
checkout's ``migrations/`` and likewise ``modules_content/``); a checkout has them at its top level, where
developers and content authors edit them. The packaged copy wins when it exists: an installed service never
reads whatever folder happens to sit next to site-packages."""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
CHECKOUT = _HERE.parent.parent


def resource(name: str) -> Path:
    shipped = _HERE / name
    return shipped if shipped.is_dir() else CHECKOUT / name


def migrations_dir() -> Path:
    return resource("migrations")


def modules_content_dir() -> Path:
    return resource("modules_content")


def certificates_dir() -> Path:
    """The certificate's and verification page's templates, CSS, logo and fonts."""
    return resource("certificates")
