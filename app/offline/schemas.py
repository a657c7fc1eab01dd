from pydantic import BaseModel

from app.offline.tiers import Tier


class TierOut(BaseModel):
    tier: Tier
    bytes: int
    sha256: str
    estimated_seconds: int
    recommended: bool


class OfflineOut(BaseModel):
    version: str
    tiers: list[TierOut]


class ManifestFile(BaseModel):
    path: str
    sha256: str
    bytes: int


class ManifestOut(BaseModel):
    """Documentation of the manifest file served as it is stored (its bytes are what its ETag names)."""

    module: str
    version: str
    tier: Tier
    files: list[ManifestFile]
