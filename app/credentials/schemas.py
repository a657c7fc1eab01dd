from pydantic import BaseModel


class JwtOut(BaseModel):
    """A VC-JWT, for clients that ask for JSON (``Accept: application/json``)."""

    jwt: str


class PublicJwk(BaseModel):
    kty: str
    n: str
    e: str
    kid: str
    alg: str
    use: str


class JwksOut(BaseModel):
    keys: list[PublicJwk]
